package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

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

password sets an existing user's password, read the same way, and ends all
of their sessions (for a user who cannot reset it by email).
`

const tokenUsage = `usage:
  pharos token create --name NAME [--org SLUG] [--role ROLE]   prints the new token on stdout, once
  pharos token list [--org SLUG]
  pharos token revoke [--org SLUG] ID

--org may be left out while there is only one organisation. Roles: viewer,
editor (default: may apply configuration), owner.
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
		fs.StringVar(&role, "role", "", "role in an existing organisation: viewer (default), editor or owner")
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

func createUser(ctx context.Context, st *store.Store, env Env, p userParams) error {
	if p.orgSlug == "" {
		p.orgSlug = store.SlugFor(p.orgName)
	}
	org, err := st.OrgBySlug(ctx, p.orgSlug)
	newOrg := errors.Is(err, store.ErrNotFound)
	if err != nil && !newOrg {
		return err
	}
	switch {
	case newOrg && p.role != "" && p.role != store.RoleOwner:
		return usagef("--role=%s: organisation %q does not exist yet, and its first user is its owner", p.role, p.orgSlug)
	case newOrg:
		p.role = store.RoleOwner
	case p.role == "":
		p.role = store.RoleViewer
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
		if err := tx.AddMember(ctx, org.ID, user.ID, p.role); err != nil {
			return err
		}
		return tx.Audit(ctx, org.ID, store.CLIActor(), "member.add", "user "+user.Email,
			map[string]any{"role": p.role, "new_user": newUser, "new_org": newOrg})
	})
	if err != nil {
		return err
	}
	verb := "added existing user"
	if newUser {
		verb = "created user"
	}
	fmt.Fprintf(env.Stdout, "%s %s as %s of %s (%s)\n", verb, user.Email, p.role, org.Name, org.Slug)
	return nil
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

func tokenCommand(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, tokenUsage)
		return 2
	}
	var orgSlug string
	orgFlag := func(fs *flag.FlagSet) {
		fs.StringVar(&orgSlug, "org", "", "the organisation's slug (default: the only one)")
	}
	switch args[0] {
	case "create":
		var name, role string
		flags := func(fs *flag.FlagSet) {
			orgFlag(fs)
			fs.StringVar(&name, "name", "", "what the token is for, e.g. ci (required)")
			fs.StringVar(&role, "role", string(store.RoleEditor), "viewer, editor or owner")
		}
		return withStoreUsage(ctx, "token create", args[1:], env, flags, func(ctx context.Context, st *store.Store, rest []string) error {
			switch {
			case len(rest) > 0:
				return usagef("unexpected arguments %q", rest)
			case strings.TrimSpace(name) == "":
				return usagef("--name is required")
			case !store.Role(role).Valid():
				return usagef("--role=%q: want viewer, editor or owner", role)
			}
			return createToken(ctx, st, env, orgSlug, strings.TrimSpace(name), store.Role(role))
		})
	case "list":
		return withStoreUsage(ctx, "token list", args[1:], env, orgFlag, func(ctx context.Context, st *store.Store, rest []string) error {
			if len(rest) > 0 {
				return usagef("unexpected arguments %q", rest)
			}
			return listTokens(ctx, st, env, orgSlug)
		})
	case "revoke":
		return withStoreUsage(ctx, "token revoke", args[1:], env, orgFlag, func(ctx context.Context, st *store.Store, rest []string) error {
			if len(rest) != 1 {
				return usagef("want exactly one token ID (flags go before it), got %q", rest)
			}
			id, err := strconv.ParseInt(rest[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("token ID %q: want a number from `pharos token list`", rest[0])
			}
			return revokeToken(ctx, st, env, orgSlug, id)
		})
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, tokenUsage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "pharos token: unknown command %q\n\n%s", args[0], tokenUsage)
		return 2
	}
}

// pickOrg finds the organisation a token command acts on; several
// organisations without --org is a usage error.
func pickOrg(ctx context.Context, st *store.Store, slug string) (store.Org, error) {
	org, err := st.PickOrg(ctx, slug)
	if errors.Is(err, store.ErrSeveralOrgs) {
		return store.Org{}, usagef("%v", err)
	}
	return org, err
}

// createToken prints the raw token, and only it, on stdout, so
// TOKEN=$(pharos token create --name ci) works.
func createToken(ctx context.Context, st *store.Store, env Env, orgSlug, name string, role store.Role) error {
	org, err := pickOrg(ctx, st, orgSlug)
	if err != nil {
		return err
	}
	var tok store.APIToken
	var raw string
	err = st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if tok, raw, err = tx.CreateToken(ctx, org.ID, name, role, 0); err != nil {
			return err
		}
		return tx.Audit(ctx, org.ID, store.CLIActor(), "token.create", fmt.Sprintf("token %d", tok.ID),
			map[string]string{"name": tok.Name, "role": string(tok.Role), "prefix": tok.Prefix})
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, raw)
	fmt.Fprintf(env.Stderr, "pharos token create: token %d %q (%s) for %s; it is shown only this once\n", tok.ID, tok.Name, tok.Role, org.Slug)
	return nil
}

func listTokens(ctx context.Context, st *store.Store, env Env, orgSlug string) error {
	org, err := pickOrg(ctx, st, orgSlug)
	if err != nil {
		return err
	}
	toks, err := st.Tokens(ctx, org.ID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tTOKEN\tROLE\tCREATED\tLAST USED\tREVOKED")
	const layout = "2006-01-02 15:04"
	for _, t := range toks {
		last, revoked := "never", "-"
		if t.LastUsedAt != nil {
			last = t.LastUsedAt.Format(layout)
		}
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.Format(layout)
		}
		fmt.Fprintf(w, "%d\t%s\t%s…\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Prefix, t.Role, t.CreatedAt.Format(layout), last, revoked)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write token list: %w", err)
	}
	return nil
}

func revokeToken(ctx context.Context, st *store.Store, env Env, orgSlug string, id int64) error {
	org, err := pickOrg(ctx, st, orgSlug)
	if err != nil {
		return err
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		tok, err := tx.RevokeToken(ctx, org.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("organisation %s has no token %d", org.Slug, id)
		}
		if err != nil {
			return err
		}
		return tx.Audit(ctx, org.ID, store.CLIActor(), "token.revoke", fmt.Sprintf("token %d", id),
			map[string]string{"name": tok.Name, "prefix": tok.Prefix})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "revoked token %d\n", id)
	return nil
}
