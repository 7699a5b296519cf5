// Package access decides who may use the back office: staff accounts (ID + password + TOTP),
// API keys for service accounts, the sessions a login opens, and the roles that say what each
// principal may do (SPEC 10, 11).
//
// It is pure: no I/O and no clock. Callers pass the current time, a source of randomness and a
// SecretBox that seals TOTP secrets. Decisions return events; Staff and Directory fold them.
//
// Secrets never appear in an event in plain text: a password only as its argon2id hash (PHC
// string), a TOTP secret only sealed by the caller's SecretBox (AES-GCM), a session token or API
// key only as its SHA-256.
package access

import (
	"errors"
	"fmt"
)

// Role is what a principal is allowed to do. The zero Role may do nothing; outside this package
// a Role comes from the three variables below or from ParseRole.
type Role struct{ name string }

var (
	// RoleOperator is service staff at the YOROZU center: commands and every query.
	RoleOperator = Role{"operator"}
	// RoleAuditor reads everything, including the audit trail and replays, and changes nothing.
	RoleAuditor = Role{"auditor"}
	// RoleBilling is the billing system's service account: invoices and the billing feed only.
	RoleBilling = Role{"billing"}
)

// ErrUnknownRole: a role name that is not operator, auditor or billing.
var ErrUnknownRole = errors.New("access: unknown role")

// ParseRole reads a role name as written on the command line and in events.
func ParseRole(s string) (Role, error) {
	for _, r := range []Role{RoleOperator, RoleAuditor, RoleBilling} {
		if s == r.name {
			return r, nil
		}
	}
	return Role{}, fmt.Errorf("%w: %q (want operator, auditor or billing)", ErrUnknownRole, s)
}

func (r Role) String() string { return r.name }

// IsZero reports whether r is the zero Role, which may do nothing.
func (r Role) IsZero() bool { return r.name == "" }

// MarshalText writes the role name, so a Role is a plain string in JSON.
func (r Role) MarshalText() ([]byte, error) {
	if r.IsZero() {
		return nil, fmt.Errorf("%w: the zero role has no name", ErrUnknownRole)
	}
	return []byte(r.name), nil
}

// UnmarshalText reads a role name with ParseRole.
func (r *Role) UnmarshalText(b []byte) error {
	parsed, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}

// Permission is one kind of access a route asks for. Routes name the permission that fits what
// they do; the table in Role.Can decides which roles hold it, so the policy lives in one place.
type Permission uint8

const (
	// PermCommand: any command that appends events (orders, consultations, terminals, claims,
	// catalogs, price lists, enrollment tokens, web filtering, ...).
	PermCommand Permission = iota + 1
	// PermCloseMonth: closing a billing month (finalizing its invoices).
	PermCloseMonth
	// PermReadOperations: queries of the operational read models (orders, contracts, terminals,
	// consultations, failures, reports, insurance, diagnoses, mail-magazine recipients).
	PermReadOperations
	// PermReadAudit: the audit trail, integrity verification, contract history and as-of replay.
	PermReadAudit
	// PermReadBilling: invoices (JSON and CSV) and price lists.
	PermReadBilling
	// PermBillingFeed: the feed of final invoices the billing system consumes.
	PermBillingFeed
	// PermManageAccess: staff accounts and API keys (list, disable, enable, unlock, reset a
	// TOTP secret, set a password, create and revoke keys).
	PermManageAccess
	// PermOwnAccount: one's own session and password (logout, password change). Every role
	// holds it; the handlers also require a staff session, not an API key.
	PermOwnAccount
)

var permissionNames = map[Permission]string{
	PermCommand:        "command",
	PermCloseMonth:     "closeMonth",
	PermReadOperations: "readOperations",
	PermReadAudit:      "readAudit",
	PermReadBilling:    "readBilling",
	PermBillingFeed:    "billingFeed",
	PermManageAccess:   "manageAccess",
	PermOwnAccount:     "ownAccount",
}

func (p Permission) String() string {
	if n, ok := permissionNames[p]; ok {
		return n
	}
	return fmt.Sprintf("Permission(%d)", uint8(p))
}

// grants is the role matrix (SPEC 10).
//
//	permission       operator  auditor  billing
//	command              x
//	closeMonth           x
//	readOperations       x        x
//	readAudit            x        x
//	readBilling          x        x        x
//	billingFeed          x        x        x
//	manageAccess         x
//	ownAccount           x        x        x
//
// Why: the operator runs the service, so every command and every query ("commands and queries");
// the auditor reads everything and changes nothing; the billing account is a service account
// limited to invoices and the feed. closeMonth and billingFeed are separate permissions although
// they currently follow command and readBilling, so either can be narrowed here alone. Only
// operators manage accounts and keys; everyone may end their own session and change their own
// password.
var grants = map[Role]map[Permission]bool{
	RoleOperator: {
		PermCommand: true, PermCloseMonth: true, PermReadOperations: true,
		PermReadAudit: true, PermReadBilling: true, PermBillingFeed: true,
		PermManageAccess: true, PermOwnAccount: true,
	},
	RoleAuditor: {
		PermReadOperations: true, PermReadAudit: true, PermReadBilling: true, PermBillingFeed: true,
		PermOwnAccount: true,
	},
	RoleBilling: {
		PermReadBilling: true, PermBillingFeed: true, PermOwnAccount: true,
	},
}

// Can reports whether the role holds p. See grants for the matrix.
func (r Role) Can(p Permission) bool { return grants[r][p] }

// PrincipalKind says how a principal authenticated.
type PrincipalKind uint8

const (
	// KindStaff: a staff member with a session token from a login.
	KindStaff PrincipalKind = iota + 1
	// KindAPIKey: a service account with an API key.
	KindAPIKey
)

func (k PrincipalKind) String() string {
	switch k {
	case KindStaff:
		return "staff"
	case KindAPIKey:
		return "apiKey"
	}
	return "unknown"
}

// MarshalText writes "staff" or "apiKey".
func (k PrincipalKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Principal is who sends a request. ID is the staff ID or the API key name; it is the actor that
// commands record.
type Principal struct {
	ID   string
	Role Role
	Kind PrincipalKind
}

// Can reports whether the principal's role holds p.
func (p Principal) Can(perm Permission) bool { return p.Role.Can(perm) }
