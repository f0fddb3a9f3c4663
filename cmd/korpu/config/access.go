package config

import (
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/korpu-az/korpu/adapters/access"
)

// partyName is an access list name or a signing key id: it is written in
// logs, metrics' labels and the dashboard's session cookie.
var partyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// signingKeys reads portal.signing_keys, or portal.signing_key as the one
// key DefaultSigningKeyID.
func (ps *problems) signingKeys(one *string, list []fileSigningKey) []SigningKey {
	switch {
	case one != nil && list != nil:
		ps.add("portal.signing_keys", "set portal.signing_keys or portal.signing_key, not both")
		return nil
	case one != nil:
		if *one == "" {
			ps.add("portal.signing_key", "required")
		}
		ps.secret("portal.signing_key", *one)
		return []SigningKey{{ID: DefaultSigningKeyID, Key: *one}}
	case len(list) == 0:
		ps.add("portal.signing_key", "required, or portal.signing_keys: a list of {id, key}")
		return nil
	}
	keys := make([]SigningKey, 0, len(list))
	ids := map[string]string{}
	for i, k := range list {
		path := "portal.signing_keys[" + strconv.Itoa(i) + "]"
		ps.uniqueName(path+".id", k.ID, ids)
		ps.required(path+".key", k.Key)
		ps.secret(path+".key", k.Key)
		keys = append(keys, SigningKey(k))
	}
	return keys
}

// access reads the access list and the shorthands portal.token and
// monitor.token, which are the entries named portal and monitor.
func (ps *problems) access(raw *file) []Party {
	var parties []Party
	names := map[string]string{}
	for _, short := range []struct {
		path  string
		name  string
		role  access.Role
		token *string
	}{
		{"portal.token", PortalParty, access.RolePortal, raw.Portal.Token},
		{"monitor.token", MonitorParty, access.RoleMonitor, raw.Monitor.Token},
	} {
		if short.token == nil {
			continue
		}
		if *short.token == "" {
			ps.add(short.path, "empty; remove the key to refuse this role")
		}
		names[short.name] = short.path
		ps.secret(short.path, *short.token)
		parties = append(parties, Party{Name: short.name, Role: short.role, Token: *short.token})
	}
	for i, rp := range raw.Access {
		path := "access[" + strconv.Itoa(i) + "]"
		ps.uniqueName(path+".name", rp.Name, names)
		role := access.Role(rp.Role)
		switch {
		case rp.Role == "":
			ps.add(path+".role", "required: portal, monitor or operator")
		case !slices.Contains([]access.Role{access.RolePortal, access.RoleMonitor, access.RoleOperator}, role):
			ps.add(path+".role", "%q is not portal, monitor or operator", rp.Role)
		}
		ps.required(path+".token", rp.Token)
		ps.secret(path+".token", rp.Token)
		parties = append(parties, Party{Name: rp.Name, Role: role, Token: rp.Token})
	}
	return parties
}

// uniqueName checks a name or id at path, and that no earlier one (seen:
// name → its path) has it.
func (ps *problems) uniqueName(path, name string, seen map[string]string) {
	switch first, dup := seen[name]; {
	case name == "":
		ps.add(path, "required")
	case !partyName.MatchString(name):
		ps.add(path, "%q must be 1 to 64 letters, digits, - or _, starting with a letter or digit", name)
	case dup:
		ps.add(path, "duplicate %q (also at %s)", name, first)
	default:
		seen[name] = path
	}
}

// secret records a token, key or password read at path, for checkSecrets.
func (ps *problems) secret(path, value string) {
	ps.secrets = append(ps.secrets, secret{path: path, value: value})
}

// secret is a token, key or password of the file at its key path.
type secret struct {
	path, value string
	// short allows fewer than MinSecretLength characters.
	short bool
}

// secrets checks every token and key: long enough to resist guessing, and
// each used once, so that no party can act as another. Messages name keys,
// never values.
func (ps *problems) checkSecrets() {
	seen := map[string]string{} // value → path of its first use
	for _, s := range ps.secrets {
		if s.value == "" {
			continue // reported as required where it is read
		}
		if n := utf8.RuneCountInString(s.value); !s.short && n < MinSecretLength {
			ps.add(s.path, "%d characters: a token or key needs at least %d", n, MinSecretLength)
		}
		if first, dup := seen[s.value]; dup {
			ps.add(s.path, "the same value as %s: every token, key and password must be unique", first)
			continue
		}
		seen[s.value] = s.path
	}
}
