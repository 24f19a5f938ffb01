package app

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pharos/app/store/storetest"
	"pharos/migrations"
)

// TestMigrateSaysWhatItDid: `pharos migrate` on a fresh database says how
// many migrations it applied and the version reached, and "up to date" only
// when it applied none.
func TestMigrateSaysWhatItDid(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testMigrateSaysWhatItDid(t, "sqlite://"+filepath.Join(t.TempDir(), "pharos.db"), "sqlite")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testMigrateSaysWhatItDid(t, storetest.PostgresURL(t), "postgres")
	})
}

func testMigrateSaysWhatItDid(t *testing.T, dbURL, dialect string) {
	files, err := fs.Glob(migrations.FS, dialect+"/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("the %s migrations: %v, %d files", dialect, err, len(files))
	}
	last, _, _ := strings.Cut(path.Base(files[len(files)-1]), "_")
	version, err := strconv.Atoi(last)
	if err != nil {
		t.Fatal(err)
	}

	code, out, errOut := cli(t, dbURL, "", "migrate")
	if want := fmt.Sprintf("migrate: applied %d migration(s); the database is now at version %d\n", len(files), version); code != 0 || out != want {
		t.Errorf("first migrate: exit %d, stdout %q, stderr %q; want 0 and %q", code, out, errOut, want)
	}
	code, out, errOut = cli(t, dbURL, "", "migrate")
	if want := fmt.Sprintf("migrate: database is up to date at version %d\n", version); code != 0 || out != want {
		t.Errorf("second migrate: exit %d, stdout %q, stderr %q; want 0 and %q", code, out, errOut, want)
	}
	if code, _, errOut := cli(t, dbURL, "", "migrate", "down"); code != 2 || !strings.Contains(errOut, "unexpected") {
		t.Errorf("migrate down: exit %d, stderr %q; want 2", code, errOut)
	}
}
