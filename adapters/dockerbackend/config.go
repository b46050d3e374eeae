package dockerbackend

// Config is the server-wide container configuration (spec §4.7 and §10).
// Zero fields take the values of DefaultConfig, so a partly filled Config
// is valid.
type Config struct {
	// Endpoint is the Docker Engine address, as DOCKER_HOST spells it
	// ("unix:///var/run/docker.sock", "tcp://host:2375"). "" is the local
	// socket.
	Endpoint string
	// Memory is each container's memory limit in bytes; swap is disabled.
	Memory int64
	// CPUs is each container's CPU quota (1.0 = one CPU).
	CPUs float64
	// PidsLimit caps the processes of a container.
	PidsLimit int64
	// NoFile is the open-files ulimit (soft and hard).
	NoFile int64
	// LogMaxBytes bounds a container's stored log; the oldest lines are
	// dropped beyond it.
	LogMaxBytes int64
	// FileMaxBytes is the file-size ulimit (RLIMIT_FSIZE): a process
	// writing past it gets SIGXFSZ/EFBIG. overlay2 on ext4 has no disk
	// quota, so this is what bounds one file's size.
	FileMaxBytes int64
	// CapAdd lists the capabilities added back after dropping all. nil
	// means the default list; a non-nil empty slice adds none.
	CapAdd []string
	// Runtime is the OCI runtime ("" = the engine's default, e.g. "runsc").
	Runtime string
	// Hostname of every container.
	Hostname string
	// ExtraLabels are put on every container and built image, and List
	// only returns containers that carry them (tests use
	// com.runnable.test=1).
	ExtraLabels map[string]string
}

// DefaultCapAdd is the default CONTAINER_CAP_ADD.
var DefaultCapAdd = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "KILL", "NET_BIND_SERVICE"}

// DefaultConfig returns the defaults of spec §4.7.
func DefaultConfig() Config {
	return Config{
		Memory:       512 << 20,
		CPUs:         1.0,
		PidsLimit:    256,
		NoFile:       1024,
		LogMaxBytes:  10 << 20,
		FileMaxBytes: 1 << 30,
		CapAdd:       append([]string(nil), DefaultCapAdd...),
		Hostname:     "runnable",
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Memory <= 0 {
		c.Memory = d.Memory
	}
	if c.CPUs <= 0 {
		c.CPUs = d.CPUs
	}
	if c.PidsLimit <= 0 {
		c.PidsLimit = d.PidsLimit
	}
	if c.NoFile <= 0 {
		c.NoFile = d.NoFile
	}
	if c.LogMaxBytes <= 0 {
		c.LogMaxBytes = d.LogMaxBytes
	}
	if c.FileMaxBytes <= 0 {
		c.FileMaxBytes = d.FileMaxBytes
	}
	if c.CapAdd == nil {
		c.CapAdd = d.CapAdd
	}
	if c.Hostname == "" {
		c.Hostname = d.Hostname
	}
	return c
}
