package httpx

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"yorozu/domain/access"
)

// Authenticator resolves a bearer token (a staff session token or an API key) to a principal.
// It fails with access.ErrUnauthenticated or access.ErrSessionExpired for a token it does not
// accept; any other error is a server fault (the store is down) and becomes a 5xx, not a 401.
type Authenticator interface {
	Authenticate(token string) (access.Principal, error)
}

// AuthenticatorFunc adapts a function, for example a closure that passes the clock to
// access.Directory.Authenticate.
type AuthenticatorFunc func(token string) (access.Principal, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(token string) (access.Principal, error) { return f(token) }

// BearerToken returns the token of an "Authorization: Bearer TOKEN" header.
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Authenticate requires a valid bearer token and puts its principal in the request context
// (PrincipalFrom). Without one it answers 401 with a problem and WWW-Authenticate: Bearer
// (RFC 6750).
func Authenticate(auth Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := BearerToken(r)
			if !ok {
				unauthenticated(w, r, access.ErrUnauthenticated, false)
				return
			}
			p, err := auth.Authenticate(token)
			switch {
			case errors.Is(err, access.ErrUnauthenticated), errors.Is(err, access.ErrSessionExpired):
				unauthenticated(w, r, err, true)
				return
			case err != nil:
				WriteError(w, r, err)
				return
			}
			if st := stateFrom(r.Context()); st != nil {
				st.setPrincipal(p.ID)
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

func unauthenticated(w http.ResponseWriter, r *http.Request, err error, tokenGiven bool) {
	challenge := `Bearer realm="yorozu"`
	if tokenGiven {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if st := stateFrom(r.Context()); st != nil {
		st.setErr(err)
	}
	WriteProblem(w, r, builtinProblem(err))
}

// RequirePermission lets a request through only if its principal's role holds p: 403 problem
// if it does not, 401 if the request is not authenticated at all.
func RequirePermission(p access.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who, ok := PrincipalFrom(r.Context())
			if !ok {
				unauthenticated(w, r, access.ErrUnauthenticated, false)
				return
			}
			if !who.Can(p) {
				WriteProblem(w, r, NewProblem(http.StatusForbidden, "forbidden", "Forbidden",
					"The role "+who.Role.String()+" may not do this ("+p.String()+")."))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p access.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the principal Authenticate put in ctx.
func PrincipalFrom(ctx context.Context) (access.Principal, bool) {
	p, ok := ctx.Value(principalKey).(access.Principal)
	return p, ok
}
