package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"

	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/projections/staffdir"
)

// The life cycle of staff accounts and API keys as the operations tools drive it (`yorozu staff
// disable|enable|unlock|reset-totp|set-password`, `yorozu apikey list|revoke`), directly on the
// store or, while `serve` owns the embedded store, through its admin socket (admin.go). Their
// actor is "system", like `staff add`'s.

var toolMeta = commands.Meta{Actor: event.SystemActor}

// staffChanged waits until the read models show the change (a running server's directory
// refuses the member's sessions from then on) and answers the member.
func (a *App) staffChanged(ctx context.Context, out commands.StaffChanged, err error) (access.StaffInfo, error) {
	if err != nil {
		return access.StaffInfo{}, err
	}
	a.awaitProjections(ctx, out.Position)
	return out.Staff, nil
}

// DisableStaff stops a staff member from logging in and ends their sessions.
func (a *App) DisableStaff(ctx context.Context, id string) (access.StaffInfo, error) {
	out, err := a.Application.Commands.DisableStaff.Handle(ctx, commands.DisableStaff{Meta: toolMeta, StaffID: id})
	return a.staffChanged(ctx, out, err)
}

// EnableStaff lets a disabled staff member log in again.
func (a *App) EnableStaff(ctx context.Context, id string) (access.StaffInfo, error) {
	out, err := a.Application.Commands.EnableStaff.Handle(ctx, commands.EnableStaff{Meta: toolMeta, StaffID: id})
	return a.staffChanged(ctx, out, err)
}

// UnlockStaff lifts the lock of repeated failed logins.
func (a *App) UnlockStaff(ctx context.Context, id string) (access.StaffInfo, error) {
	out, err := a.Application.Commands.UnlockStaff.Handle(ctx, commands.UnlockStaff{Meta: toolMeta, StaffID: id})
	return a.staffChanged(ctx, out, err)
}

// SetStaffPassword sets a staff member's password; their sessions end.
func (a *App) SetStaffPassword(ctx context.Context, id, password string) (access.StaffInfo, error) {
	out, err := a.Application.Commands.SetPassword.Handle(ctx, commands.SetPassword{Meta: toolMeta, StaffID: id, Password: password})
	return a.staffChanged(ctx, out, err)
}

// ResetTOTP gives a staff member a new TOTP secret, returned once; their sessions end.
func (a *App) ResetTOTP(ctx context.Context, id string) (access.Enrollment, error) {
	out, err := a.Application.Commands.ResetTOTP.Handle(ctx, commands.ResetTOTP{Meta: toolMeta, StaffID: id})
	if _, err := a.staffChanged(ctx, out.StaffChanged, err); err != nil {
		return access.Enrollment{}, err
	}
	return out.Enrollment, nil
}

// APIKeyList is what `yorozu apikey list` prints: every key, revoked ones included, never a
// key or its hash.
type APIKeyList struct {
	Items []access.APIKeyInfo `json:"items"`
}

// APIKeys lists the API keys: from the running directory, or, for a tool that runs no
// projections, from a directory folded from the log for the occasion.
func (a *App) APIKeys(ctx context.Context) (APIKeyList, error) {
	dir := a.Directory
	if a.cfg.NoProjections {
		p := staffdir.New(a.codec)
		var after event.Position
		for {
			recs, err := a.Events.ReadAll(ctx, after, 1000)
			if err != nil {
				return APIKeyList{}, err
			}
			for _, r := range recs {
				if err := p.Apply(ctx, nil, r); err != nil {
					return APIKeyList{}, err
				}
				after = r.Position
			}
			if len(recs) == 0 {
				break
			}
		}
		dir = p.Directory
	}
	return APIKeyList{Items: dir.APIKeys()}, nil
}

// RevokeAPIKey ends an API key for good; it answers 401 from then on.
func (a *App) RevokeAPIKey(ctx context.Context, name string) (access.APIKeyInfo, error) {
	out, err := a.Application.Commands.RevokeAPIKey.Handle(ctx, commands.RevokeAPIKey{Meta: toolMeta, Name: name})
	if err != nil {
		return access.APIKeyInfo{}, err
	}
	a.awaitProjections(ctx, out.Position)
	list, err := a.APIKeys(ctx)
	if err != nil {
		return access.APIKeyInfo{}, err
	}
	for _, k := range list.Items {
		if k.Name == name {
			return k, nil
		}
	}
	return out.Key, nil
}

// unknownIDKey is the key of the pseudonyms under which failed logins of unregistered staff IDs
// are recorded (access.Policy.UnknownID), derived from the master key: every replica and tool of
// a deployment names an ID alike, and nobody without the key can test guesses against them.
func unknownIDKey(master []byte) []byte {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("yorozu/unknown-staff-id/v1"))
	return mac.Sum(nil)
}
