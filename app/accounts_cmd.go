package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"pharos/app/config"
	"pharos/app/store"
	"pharos/app/web/auth"
)

const userUsage = `usage:
  pharos user create --email EMAIL --org NAME [--org-slug SLUG] [--role ROLE]
  pharos user password --email EMAIL

create makes a user. The password is read from the first line of stdin when stdin
is not a terminal, else prompted for twice. If the organisation (found by
slug, by default derived from NAME) does not exist it is created and the user
becomes its owner; otherwise the user joins it with --role (default viewer).
An existing user only gets the membership; their password is not changed.
A user who is already a member keeps their role and nothing changes (roles
change at Console → Team), except in an organisation left without an owner:
there --role owner makes them its owner, and nobody joins it with another
role.

password sets an existing user's password, read the same way, and ends all
of their sessions (for a user who cannot reset it by email).
`

// usageError marks a mistake in the command line (exit status 2), as opposed
// to a failure while carrying it out (exit status 1).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// withStoreUsage is withStore that also maps a usageError returned by fn to
// exit status 2.
func withStoreUsage(ctx context.Context, name string, args []string, env Env, extra func(*flag.FlagSet),
	fn func(ctx context.Context, st *store.Store, rest []string) error) int {
	var bad bool
	code := withStore(ctx, name, args, env, extra, func(ctx context.Context, _ config.Config, st *store.Store, rest []string) error {
		err := fn(ctx, st, rest)
		bad = errors.As(err, new(usageError))
		return err
	})
	if bad {
		return 2
	}
	return code
}

func userCommand(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && args[0] == "password" {
		return userPasswordCommand(ctx, args[1:], env)
	}
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(env.Stdout, userUsage)
			return 0
		}
		fmt.Fprint(env.Stderr, userUsage)
		return 2
	}
	var email, orgName, orgSlug, role string
	cost := store.DefaultPasswordCost
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.StringVar(&orgName, "org", "", "the organisation's name (required)")
		fs.StringVar(&orgSlug, "org-slug", "", "the organisation's slug (default: derived from --org)")
		fs.StringVar(&role, "role", "", "role in an existing organisation: viewer (default), editor or owner; a member keeps theirs")
		fs.IntVar(&cost, "password-cost", cost, "bcrypt cost of the password hash")
	}
	return withStoreUsage(ctx, "user create", args[1:], env, flags, func(ctx context.Context, st *store.Store, rest []string) error {
		switch {
		case len(rest) > 0:
			return usagef("unexpected arguments %q", rest)
		case !strings.Contains(email, "@"):
			return usagef("--email: want an email address, got %q", email)
		case strings.TrimSpace(orgName) == "":
			return usagef("--org: the organisation's name is required")
		case role != "" && !store.Role(role).Valid():
			return usagef("--role=%q: want viewer, editor or owner", role)
		case cost < bcrypt.MinCost || cost > bcrypt.MaxCost:
			return usagef("--password-cost=%d: want %d-%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
		}
		return createUser(ctx, st, env, userParams{email: email, orgName: strings.TrimSpace(orgName),
			orgSlug: orgSlug, role: store.Role(role), cost: cost})
	})
}

type userParams struct {
	email, orgName, orgSlug string
	role                    store.Role
	cost                    int
}

// createUser is `pharos user create`. It never lowers a member's role nor
// leaves an organisation without an owner.
func createUser(ctx context.Context, st *store.Store, env Env, p userParams) error {
	if p.orgSlug == "" {
		p.orgSlug = store.SlugFor(p.orgName)
	}
	org, err := st.OrgBySlug(ctx, p.orgSlug)
	newOrg := errors.Is(err, store.ErrNotFound)
	if err != nil && !newOrg {
		return err
	}
	if newOrg && p.role != "" && p.role != store.RoleOwner {
		return usagef("--role=%s: organisation %q does not exist yet, and its first user is its owner", p.role, p.orgSlug)
	}
	user, _, err := st.UserByEmail(ctx, p.email)
	newUser := errors.Is(err, store.ErrNotFound)
	if err != nil && !newUser {
		return err
	}
	var hash store.PasswordHash
	if newUser {
		password, err := readPassword(env, p.email, p.orgName)
		if err != nil {
			return err
		}
		if hash, err = hashPassword(ctx, password, p.cost); err != nil {
			return err
		}
	}
	var j joining
	err = st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if newOrg {
			if org, err = tx.CreateOrg(ctx, p.orgName, p.orgSlug); err != nil {
				return err
			}
		}
		if newUser {
			if user, err = tx.CreateUser(ctx, p.email, hash); err != nil {
				return err
			}
		}
		j, err = join(ctx, tx, org, user, p.role, newUser, newOrg)
		return err
	})
	if err != nil {
		return err
	}
	j.report(env.Stdout, org, user, p.role, newUser)
	return nil
}

// joining is what `pharos user create` did about a membership.
type joining struct {
	before, after store.Role // before is "" when the user was not a member
	ownerless     bool       // the organisation has no owner afterwards
}

// join makes user a member of org with role (default: owner of a new
// organisation, else viewer), with an audit row. A member keeps their role,
// except that --role owner makes a member of an organisation without owner
// its owner; nobody joins such an organisation with another role.
func join(ctx context.Context, tx *store.Tx, org store.Org, user store.User, role store.Role, newUser, newOrg bool) (joining, error) {
	owners, err := tx.Owners(ctx, org.ID)
	if err != nil {
		return joining{}, err
	}
	ownerless := len(owners) == 0
	m, err := tx.Member(ctx, org.ID, user.ID)
	switch {
	case err == nil && ownerless && role == store.RoleOwner:
		if _, err := tx.SetMemberRole(ctx, org.ID, user.ID, store.RoleOwner); err != nil {
			return joining{}, err
		}
		return joining{before: m.Role, after: store.RoleOwner}, tx.Audit(ctx, org.ID, store.CLIActor(), "member.role",
			"user "+user.Email, map[string]any{"user_id": user.ID, "from": m.Role, "to": store.RoleOwner})
	case err == nil:
		return joining{before: m.Role, after: m.Role, ownerless: ownerless}, nil
	case !errors.Is(err, store.ErrNotFound):
		return joining{}, err
	}
	switch {
	case role == "" && newOrg:
		role = store.RoleOwner
	case ownerless && role != store.RoleOwner:
		return joining{}, usagef("organisation %s (%s) has no owner: its next member joins it with --role owner", org.Name, org.Slug)
	case role == "":
		role = store.RoleViewer
	}
	got, joined, err := tx.JoinOrg(ctx, org.ID, user.ID, role)
	if err != nil || !joined { // !joined: they joined meanwhile, and keep their role
		return joining{before: got, after: got}, err
	}
	return joining{after: got}, tx.Audit(ctx, org.ID, store.CLIActor(), "member.add", "user "+user.Email,
		map[string]any{"role": got, "new_user": newUser, "new_org": newOrg})
}

// report says what join did; asked is the --role given, if any.
func (j joining) report(w io.Writer, org store.Org, user store.User, asked store.Role, newUser bool) {
	switch {
	case j.before == "" && newUser:
		fmt.Fprintf(w, "created user %s as %s of %s (%s)\n", user.Email, j.after, org.Name, org.Slug)
	case j.before == "":
		fmt.Fprintf(w, "added existing user %s as %s of %s (%s)\n", user.Email, j.after, org.Name, org.Slug)
	case j.before != j.after:
		fmt.Fprintf(w, "made %s owner of %s (%s), which had no owner; they were %s\n", user.Email, org.Name, org.Slug, j.before)
	default:
		fmt.Fprintf(w, "%s is already a member of %s (%s) as %s; nothing changed, not their password either\n",
			user.Email, org.Name, org.Slug, j.after)
		switch {
		case j.ownerless:
			fmt.Fprintf(w, "%s has no owner: make them its owner with --role owner\n", org.Slug)
		case asked != "" && asked != j.after:
			fmt.Fprintf(w, "--role=%s is not applied to a member: change roles at Console → Team (/admin/team)\n", asked)
		}
	}
}

// userPasswordCommand is `pharos user password --email E`.
func userPasswordCommand(ctx context.Context, args []string, env Env) int {
	var email string
	cost := store.DefaultPasswordCost
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.IntVar(&cost, "password-cost", cost, "bcrypt cost of the password hash")
	}
	return withStoreUsage(ctx, "user password", args, env, flags, func(ctx context.Context, st *store.Store, rest []string) error {
		switch {
		case len(rest) > 0:
			return usagef("unexpected arguments %q", rest)
		case !strings.Contains(email, "@"):
			return usagef("--email: want an email address, got %q", email)
		case cost < bcrypt.MinCost || cost > bcrypt.MaxCost:
			return usagef("--password-cost=%d: want %d-%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
		}
		return setPassword(ctx, st, env, email, cost)
	})
}

// setPassword replaces a user's password and ends their sessions, with an
// audit row in each of their organisations.
func setPassword(ctx context.Context, st *store.Store, env Env, email string, cost int) error {
	user, _, err := st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user with email %q", store.NormalizeEmail(email))
	}
	if err != nil {
		return err
	}
	ms, err := st.Memberships(ctx, user.ID)
	if err != nil {
		return err
	}
	password, err := readPassword(env, user.Email)
	if err != nil {
		return err
	}
	hash, err := hashPassword(ctx, password, cost)
	if err != nil {
		return err
	}
	var ended int64
	err = st.InTx(ctx, func(tx *store.Tx) error {
		n, err := tx.SetPassword(ctx, user.ID, hash)
		if err != nil {
			return err
		}
		ended = n
		for _, m := range ms {
			if err := tx.Audit(ctx, m.OrgID, store.CLIActor(), "user.password_reset", "user "+user.Email,
				map[string]any{"sessions_ended": ended}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "set the password of %s and ended %d session(s)\n", user.Email, ended)
	return nil
}

// hashPassword hashes a new password through the same capped hasher as the
// console's forms.
func hashPassword(ctx context.Context, password string, cost int) (store.PasswordHash, error) {
	return auth.NewHasher(auth.HasherOptions{Cost: cost}).Hash(ctx, password)
}

// readPassword reads the new user's password: prompted twice without echo
// on a terminal, else the first line of stdin (for scripts). It must pass
// the console's password policy, with related (the email, the
// organisation's name) counted as known to an attacker.
func readPassword(env Env, related ...string) (string, error) {
	var password string
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(env.Stderr, "Repeat the password: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords differ")
		}
		password = string(first)
	} else {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("read the password from the first line of stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if err := auth.CheckNewPassword(password, related...); err != nil {
		return "", err
	}
	return password, nil
}
