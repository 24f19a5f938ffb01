package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"pharos/app/store"
)

const tokenUsage = `usage:
  pharos token create --name NAME [--org SLUG] [--role ROLE]   prints the new token on stdout, once
  pharos token list [--org SLUG]
  pharos token revoke [--org SLUG] ID

--org may be left out while there is only one organisation. Roles: viewer,
editor (default: may apply configuration), owner.
`

// tokenCommand runs `pharos token create|list|revoke`.
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
