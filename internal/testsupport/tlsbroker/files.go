package tlsbroker

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// brokerUser is the OS user the RabbitMQ server runs as; it must read the
// certificate files.
const brokerUser = "rabbitmq"

// certFiles are the PEM files the broker's listener reads.
type certFiles struct {
	dir, caFile, certFile, keyFile string
}

// writeCertFiles writes the CA certificate, the server certificate and its
// key into a new directory under os.TempDir (not t.TempDir: its parents
// are private to the test process's user). When the process runs as root
// the directory and files are given to brokerUser, private to it;
// otherwise they are made world-readable (test-only keys).
func writeCertFiles(ca, cert, key []byte) (*certFiles, error) {
	dir, err := os.MkdirTemp("", "warren-tlsbroker-")
	if err != nil {
		return nil, err
	}
	f := &certFiles{
		dir:      dir,
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "server.pem"),
		keyFile:  filepath.Join(dir, "server.key"),
	}
	uid, gid, owned := brokerIDs()
	dirMode, fileMode := os.FileMode(0o755), os.FileMode(0o644)
	if owned {
		dirMode, fileMode = 0o700, 0o600
	}
	for _, w := range []struct {
		path string
		data []byte
	}{{f.caFile, ca}, {f.certFile, cert}, {f.keyFile, key}} {
		if err := os.WriteFile(w.path, w.data, fileMode); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		if owned {
			if err := os.Chown(w.path, uid, gid); err != nil {
				_ = os.RemoveAll(dir)
				return nil, err
			}
		}
	}
	if owned {
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("chmod %s: %w", dir, err)
	}
	return f, nil
}

// brokerIDs returns brokerUser's uid and gid, and whether files can be
// given to it (the process is root and the user exists).
func brokerIDs() (uid, gid int, ok bool) {
	if os.Geteuid() != 0 {
		return 0, 0, false
	}
	u, err := user.Lookup(brokerUser)
	if err != nil {
		return 0, 0, false
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uid, gid, true
}

// remove deletes the directory and everything in it.
func (f *certFiles) remove() error { return os.RemoveAll(f.dir) }
