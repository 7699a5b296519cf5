package main

// The credential life cycle on the command line: `yorozu staff disable|enable|unlock|
// reset-totp|set-password --id ID` and `yorozu apikey list|revoke --name NAME`. Each works like
// `staff add`: directly on the store, or, while `serve` owns the embedded store, forwarded to
// it through its admin socket (admin.go), with the same output and exit status either way.

import (
	"context"
	"errors"
	"fmt"
	"io"

	"yorozu/cmd/yorozu/app"
)

// staffOp is one `yorozu staff ...` command on an existing staff member. readsPassword makes it
// read the new password from standard input (one line, the newline stripped), as `staff add`
// does.
type staffOp struct {
	name          string
	adminPath     string
	readsPassword bool
	run           func(ctx context.Context, a *app.App, id, password string) (any, error)
}

var staffOps = map[string]staffOp{
	"staff disable": {name: "staff disable", adminPath: app.AdminPathStaffDisable,
		run: func(ctx context.Context, a *app.App, id, _ string) (any, error) { return a.DisableStaff(ctx, id) }},
	"staff enable": {name: "staff enable", adminPath: app.AdminPathStaffEnable,
		run: func(ctx context.Context, a *app.App, id, _ string) (any, error) { return a.EnableStaff(ctx, id) }},
	"staff unlock": {name: "staff unlock", adminPath: app.AdminPathStaffUnlock,
		run: func(ctx context.Context, a *app.App, id, _ string) (any, error) { return a.UnlockStaff(ctx, id) }},
	"staff reset-totp": {name: "staff reset-totp", adminPath: app.AdminPathStaffResetTOTP,
		run: func(ctx context.Context, a *app.App, id, _ string) (any, error) { return a.ResetTOTP(ctx, id) }},
	"staff set-password": {name: "staff set-password", adminPath: app.AdminPathStaffSetPassword, readsPassword: true,
		run: func(ctx context.Context, a *app.App, id, pw string) (any, error) {
			return a.SetStaffPassword(ctx, id, pw)
		}},
}

func runStaffOp(ctx context.Context, op staffOp, args []string, stdin io.Reader, stdout io.Writer) error {
	var cfg app.Config
	var id string
	fs := newFlags(op.name)
	storeFlags(fs, &cfg)
	fs.StringVar(&id, "id", "", "staff `ID`")
	a, err := openForTool(ctx, fs, &cfg, args)
	locked := storeLocked(err)
	if err != nil && !locked {
		return err
	}
	if !locked {
		defer a.Close()
	}
	if id == "" {
		return errors.New("--id is required")
	}
	var password string
	if op.readsPassword {
		if password, err = readLine(stdin); err != nil {
			return fmt.Errorf("reading the password from standard input: %w", err)
		}
	}
	var out any
	if locked {
		var answer map[string]any
		err = adminCall(ctx, cfg.DataDir, op.adminPath, app.AdminStaffRequest{ID: id, Password: password}, &answer)
		out = answer
	} else {
		out, err = op.run(ctx, a, id, password)
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}

func apikeyList(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	fs := newFlags("apikey list")
	storeFlags(fs, &cfg)
	a, err := openForTool(ctx, fs, &cfg, args)
	var out app.APIKeyList
	switch {
	case storeLocked(err):
		err = adminCall(ctx, cfg.DataDir, app.AdminPathAPIKeysList, struct{}{}, &out)
	case err == nil:
		defer a.Close()
		out, err = a.APIKeys(ctx)
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}

func apikeyRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	var name string
	fs := newFlags("apikey revoke")
	storeFlags(fs, &cfg)
	fs.StringVar(&name, "name", "", "key `name`")
	a, err := openForTool(ctx, fs, &cfg, args)
	locked := storeLocked(err)
	if err != nil && !locked {
		return err
	}
	if !locked {
		defer a.Close()
	}
	if name == "" {
		return errors.New("--name is required")
	}
	var out any
	if locked {
		var answer map[string]any
		err = adminCall(ctx, cfg.DataDir, app.AdminPathAPIKeysRevoke, app.AdminAPIKeyRequest{Name: name}, &answer)
		out = answer
	} else {
		out, err = a.RevokeAPIKey(ctx, name)
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}
