package flashbackemulator

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// User is a caller of the emulated API.
type User struct {
	// Token is the bearer token the user sends in the Authorization header.
	// Required, and different for every user.
	Token string `json:"token,omitempty"`

	// Name identifies the user in the emulator's logs (tokens never appear
	// there). Default: the user's position, e.g. "users[0]".
	Name string `json:"name,omitempty"`

	// Roles maps workspace ids to the user's role there: READ lists the
	// workspace's buckets; WRITE and ADMIN also create, update and delete
	// them. A workspace the user has no role in is invisible to them.
	Roles map[string]string `json:"roles,omitempty"`
}

// role is a workspace role; each one includes the rights of those below it.
type role int

const (
	roleNone role = iota
	roleRead
	roleWrite
	roleAdmin
)

var roleNames = map[string]role{"READ": roleRead, "WRITE": roleWrite, "ADMIN": roleAdmin}

// account is an authenticated user.
type account struct {
	name  string
	roles map[string]role
}

func (a *account) can(workspace string, min role) bool {
	return a.roles[workspace] >= min
}

// accountsOf indexes users by the SHA-256 digest of their token, so that the
// time a lookup takes says nothing about how close a guess came.
func accountsOf(users []User) map[[32]byte]*account {
	accounts := make(map[[32]byte]*account, len(users))
	for i, u := range users {
		a := &account{name: u.label(i), roles: make(map[string]role, len(u.Roles))}
		for ws, name := range u.Roles {
			a.roles[ws] = roleNames[name]
		}
		accounts[sha256.Sum256([]byte(u.Token))] = a
	}
	return accounts
}

func (u User) label(i int) string {
	if u.Name != "" {
		return u.Name
	}
	return fmt.Sprintf("users[%d]", i)
}

func (e *Emulator) authenticate(r *http.Request) (*account, *refusal) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, refuse(http.StatusUnauthorized, "Authorization: a Bearer token is required")
	}
	a := e.accounts[sha256.Sum256([]byte(token))]
	if a == nil {
		return nil, refuse(http.StatusUnauthorized, "Authorization: invalid or expired token")
	}
	return a, nil
}

// checkUsers reports configuration errors without ever quoting a token.
func checkUsers(users []User, workspaces map[string]bool) error {
	tokens := make(map[string]int, len(users))
	for i, u := range users {
		who := fmt.Sprintf("users[%d] (%s)", i, u.label(i))
		if u.Token == "" {
			return fmt.Errorf("%s: token is required", who)
		}
		if j, dup := tokens[u.Token]; dup {
			return fmt.Errorf("%s: same token as users[%d]", who, j)
		}
		tokens[u.Token] = i
		for _, ws := range slices.Sorted(maps.Keys(u.Roles)) {
			if !workspaces[ws] {
				return fmt.Errorf("%s: role in undeclared workspace %q", who, ws)
			}
			if _, ok := roleNames[u.Roles[ws]]; !ok {
				return fmt.Errorf("%s: role %q in workspace %q must be READ, WRITE or ADMIN", who, u.Roles[ws], ws)
			}
		}
	}
	return nil
}
