package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // for --tz on systems without a zone database

	"github.com/sshchat/sshchat/cluster"
	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
	"github.com/sshchat/sshchat/sanitize"
	"github.com/sshchat/sshchat/ui"
)

const logUsage = `usage: sshchat log [--data DIR] [-f] [--json] [--room ROOM]... [--type T[,T]]
                  [--user NAME|FINGERPRINT] [--since 2h|RFC3339] [--until 2h|RFC3339]
                  [-n N] [--tz ZONE] [--nats URL [--cluster NAME]]

Prints the event log of every room, DATA/events.log, oldest first. Each
line shows the local time, the room (#go; @direct for a direct message),
the name and the text; joins, leaves, sessions and the server's close are
dimmed on a terminal (not with NO_COLOR, nor when piped). User text is
sanitized: nothing in the log can reach the terminal as an escape
sequence.

--room keeps the events of one room, go or #go (any letter case, and
look-alikes: g0 is go, my_room is my-room), or @direct for the direct
messages; repeat it, or separate rooms with commas, for several. It
selects by the room's chatroomId in the log.

--json prints the stored lines unchanged instead, one event a line, for
jq and other programs: the text in them is not sanitized for terminals.

-n N prints only the last N matching events, read from the end of the log.
Without -n every matching event is printed. -f prints the last 10 (or N)
and then the events as they are appended, across rotation and truncation
of the log, until interrupted; -n 0 -f prints only the new ones.

--since and --until take a duration back from now (90s, 30m, 2h, 48h) or
an RFC3339 time (2026-11-27T14:00:00Z or with an offset): events from
--since, before --until.

--nats URL reads a chat of several nodes from its NATS JetStream stream
(--cluster names it, as for serve) instead of a node's events.log: the
same events, with the same IDs, as every node's log.

--data, --nats and the other NATS flags come from SSHCHAT_DATA,
SSHCHAT_NATS, ... when the flag is not given, as for serve.
A corrupt line is reported on stderr and skipped. Exit status: 0 done,
1 the log cannot be read, 2 bad arguments.

Flags:
`

// logTimeLayout is how the human output shows an event's time.
const logTimeLayout = "2006-01-02 15:04:05"

// followBacklog is how many events -f prints before following, without -n.
const followBacklog = 10

// logCmd is one parsed `sshchat log`.
type logCmd struct {
	loc    *time.Location // of the times shown
	path   string         // DATA/events.log
	follow bool
	json   bool
	n      int // events to print from the end; -1 when -n was not given
	filter history.Filter
	nats   clusterConfig // --nats: read the cluster's stream instead of a log file
}

// runLog is `sshchat log`; it returns the exit status.
func runLog(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, err := parseLog(args, time.Now())
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, logUsage)
		flags := newLogFlags(new(logCmd), new(string), time.Now())
		flags.SetOutput(stdout)
		flags.PrintDefaults()
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sshchat log: %v\n", err)
		return 2
	}
	if err := cmd.run(ctx, stdout, stderr, colorOutput(stdout)); err != nil {
		fmt.Fprintf(stderr, "sshchat log: %v\n", err)
		return 1
	}
	return 0
}

// newLogFlags defines the flags of `sshchat log`, which fill cmd and data;
// durations count back from now.
func newLogFlags(cmd *logCmd, data *string, now time.Time) *flag.FlagSet {
	flags := flag.NewFlagSet("sshchat log", flag.ContinueOnError)
	// runLog reports an error in one line, and the usage only on --help.
	flags.SetOutput(io.Discard)
	flags.Usage = func() {}
	flags.StringVar(data, "data", "./data", "data `directory` holding events.log")
	flags.BoolVar(&cmd.follow, "f", false, "follow: print events as they are appended, until interrupted")
	flags.BoolVar(&cmd.json, "json", false, "print the stored JSON lines unchanged (for programs: not sanitized)")
	flags.Func("type", "only events of these `types`, comma-separated: "+strings.Join(hub.Types(), ", "), func(s string) (err error) {
		cmd.filter.Types, err = parseTypes(s)
		return err
	})
	flags.Func("tz", "show times in this time `zone` (an IANA name such as UTC or Europe/Paris) instead of the local one", func(s string) (err error) {
		cmd.loc, err = time.LoadLocation(s)
		return err
	})
	flags.Func("room", "only events of this `room` (go or #go; @direct for direct messages); repeat for several", func(s string) error {
		rooms, err := parseRooms(s)
		for _, r := range rooms {
			if !slices.Contains(cmd.filter.Rooms, r) {
				cmd.filter.Rooms = append(cmd.filter.Rooms, r)
			}
		}
		return err
	})
	flags.StringVar(&cmd.nats.URL, "nats", "", "read the events of a chat of several nodes from its NATS JetStream stream at these `URLs` instead of DATA/events.log")
	flags.StringVar(&cmd.nats.Name, "cluster", "sshchat", "with --nats: the `name` of the chat (its stream)")
	flags.StringVar(&cmd.nats.Creds, "nats-creds", "", "with --nats: NATS credentials `file`")
	flags.StringVar(&cmd.nats.TLSCA, "nats-tls-ca", "", "with --nats: CA certificate `file` to trust")
	flags.StringVar(&cmd.nats.TLSCert, "nats-tls-cert", "", "with --nats: client certificate `file`")
	flags.StringVar(&cmd.nats.TLSKey, "nats-tls-key", "", "with --nats: client key `file`")
	flags.StringVar(&cmd.filter.User, "user", "", "only the events of this `user`: a display name (any letter case) or a SHA256: key fingerprint")
	flags.Func("since", "only events from this `time` on: a duration back from now (2h) or an RFC3339 time", func(s string) (err error) {
		cmd.filter.Since, err = parseWhen(s, now)
		return err
	})
	flags.Func("until", "only events before this `time`: a duration back from now (2h) or an RFC3339 time", func(s string) (err error) {
		cmd.filter.Until, err = parseWhen(s, now)
		return err
	})
	flags.Func("n", "print only the last `N` matching events", func(s string) error {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			return errors.New("not a whole number")
		case n < 0:
			return errors.New("must not be negative")
		}
		cmd.n = n
		return nil
	})
	return flags
}

// parseLog reads the arguments of `sshchat log`; durations count back from
// now.
func parseLog(args []string, now time.Time) (*logCmd, error) {
	cmd := &logCmd{n: -1, loc: time.Local}
	var data string
	flags := newLogFlags(cmd, &data, now)
	// Only --data, shared with serve: a selection flag taken from the
	// environment would silently change what every run prints.
	if err := setFromEnv(flags, "data", "nats", "cluster", "nats-creds", "nats-tls-ca", "nats-tls-cert", "nats-tls-key"); err != nil {
		return nil, err
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w (sshchat log --help lists the flags)", err)
	}
	since, until := cmd.filter.Since, cmd.filter.Until
	switch {
	case flags.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q (sshchat log --help lists the flags)", flags.Arg(0))
	case data == "":
		return nil, errors.New("--data must not be empty")
	case cmd.n == 0 && !cmd.follow:
		return nil, errors.New("-n 0 selects nothing: leave -n out to print every event, or add -f to follow new ones")
	case cmd.follow && !until.IsZero():
		return nil, errors.New("-f and --until cannot be used together: followed events are newer than any --until")
	case !since.IsZero() && !until.IsZero() && !since.Before(until):
		return nil, errors.New("--since must be before --until")
	}
	if len(cmd.filter.Rooms) > 0 {
		// g0 is go, my_room my-room: look-alikes are one room, whichever
		// of them made it.
		cmd.filter.RoomKey = registry.Canonical
	}
	cmd.path = filepath.Join(data, "events.log")
	return cmd, nil
}

// setFromEnv gives each named flag of flags its value from SSHCHAT_<FLAG>
// (upper case, dashes as underscores) when that is set, as parseServe does
// for the serve flags; the command line, parsed after, still wins.
func setFromEnv(flags *flag.FlagSet, names ...string) error {
	for _, name := range names {
		env := "SSHCHAT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := flags.Lookup(name).Value.Set(v); err != nil {
				return fmt.Errorf("%s=%q: %w", env, v, err)
			}
		}
	}
	return nil
}

// parseTypes reads --type: known event types, any letter case, separated
// by commas.
func parseTypes(s string) ([]string, error) {
	var types []string
	for t := range strings.SplitSeq(s, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if !slices.Contains(hub.Types(), t) {
			return nil, fmt.Errorf("unknown event type %q (known: %s)", t, strings.Join(hub.Types(), ", "))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types, nil
}

// directRoom is the chatroomId of direct messages, which are in no room.
const directRoom = "@direct"

// parseRooms reads one --room: room IDs as the log stores them, from
// names with or without their '#', any letter case, separated by commas.
func parseRooms(s string) ([]string, error) {
	var rooms []string
	for r := range strings.SplitSeq(s, ",") {
		r = strings.ToLower(strings.TrimSpace(r))
		id := strings.TrimPrefix(r, "#")
		if id != directRoom && !validRoomID(id) {
			return nil, fmt.Errorf("%q is not a room: # and 2 to 32 of a-z 0-9 _ - (the # may be left out), or %s for direct messages", r, directRoom)
		}
		rooms = append(rooms, id)
	}
	return rooms, nil
}

// validRoomID reports whether id can name a room: 2 to 32 of a-z 0-9 _ -.
func validRoomID(id string) bool {
	if len(id) < 2 || len(id) > 32 {
		return false
	}
	for _, c := range []byte(id) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// parseWhen reads --since or --until: a duration back from now, rounded
// down to the second (the resolution of event times), or an RFC3339 time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, errors.New("a duration back from now must not be negative")
		}
		return now.Add(-d).Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("neither a duration back from now (90s, 30m, 2h; 24h for a day) nor an RFC3339 time (2026-11-27T14:00:00Z)")
	}
	return t, nil
}

// run prints the selected events on stdout; warnings about corrupt lines go
// to stderr. A follow ends without error when ctx does.
func (c *logCmd) run(ctx context.Context, stdout, stderr io.Writer, color bool) error {
	if c.nats.URL != "" {
		w := bufio.NewWriter(stdout)
		err := c.readStream(ctx, &logPrinter{w: w, json: c.json, color: color, loc: c.loc})
		if ferr := w.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("write: %w", ferr)
		}
		return err
	}
	if _, err := os.Stat(c.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no event log at %s (set --data or SSHCHAT_DATA to the data directory)", c.path)
		}
		return err
	}
	w := bufio.NewWriter(stdout)
	p := &logPrinter{w: w, json: c.json, color: color, loc: c.loc}
	corrupt := func(err error) {
		// Keep the warning next to the events around it.
		_ = w.Flush()
		fmt.Fprintf(stderr, "sshchat log: skipping %s\n", sanitize.Line(err.Error()))
	}

	var err error
	switch {
	case c.follow:
		err = c.followLog(ctx, p, corrupt)
	case c.n >= 0:
		err = c.tail(p, corrupt)
	default:
		err = c.scan(p, corrupt)
	}
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write: %w", ferr)
	}
	return err
}

// scan prints every matching event, streaming: memory does not grow with
// the log.
func (c *logCmd) scan(p *logPrinter, corrupt func(error)) error {
	f, err := os.Open(c.path)
	if err != nil {
		return err
	}
	defer f.Close()
	for rec, err := range history.Scan(f, c.filter) {
		if errors.Is(err, history.ErrCorrupt) {
			corrupt(err)
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", c.path, err)
		}
		if err := p.print(rec); err != nil {
			return err
		}
	}
	return nil
}

// tail prints the last c.n matching events, reading the log from its end.
func (c *logCmd) tail(p *logPrinter, corrupt func(error)) error {
	recs, err := history.Tail(c.path, c.n, c.filter, history.OnCorrupt(corrupt))
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if err := p.print(rec); err != nil {
			return err
		}
	}
	return nil
}

// followLog prints the last events, then each one appended, until ctx ends.
func (c *logCmd) followLog(ctx context.Context, p *logPrinter, corrupt func(error)) error {
	backlog := c.n
	if backlog < 0 {
		backlog = followBacklog
	}
	err := history.Follow(ctx, c.path, c.filter, func(rec history.Record) error {
		if err := p.print(rec); err != nil {
			return err
		}
		return p.flush()
	}, history.Backlog(backlog), history.OnCorrupt(corrupt))
	if ctx.Err() != nil {
		return nil // interrupted: the normal end of a follow
	}
	return err
}

// logPrinter writes records for people or, with json, as stored.
type logPrinter struct {
	w     *bufio.Writer
	json  bool
	color bool // dim the system events
	loc   *time.Location
}

const (
	faint = "\x1b[2m"
	reset = "\x1b[0m"
)

func (p *logPrinter) print(rec history.Record) error {
	if p.json {
		p.w.Write(rec.Raw)
		return p.check(p.w.WriteByte('\n'))
	}
	line, system := eventLine(rec.Event, p.loc)
	if system && p.color {
		line = faint + line + reset
	}
	p.w.WriteString(line)
	return p.check(p.w.WriteByte('\n'))
}

func (p *logPrinter) flush() error { return p.check(p.w.Flush()) }

// check names a failed write; bufio.Writer returns the first one again on
// every later write, so checking the last write of a record is enough.
func (p *logPrinter) check(err error) error {
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// eventLine formats an event for people as the chat shows it, every
// user-supplied string sanitized: "2026-11-27 14:03:05 #lobby alice:
// hello", or for the events that are not messages (system reports true)
// "… #lobby → alice joined"; a direct message is in no room and shows
// "@direct" there. The room is on every line, so that grep '#go ' finds
// a room's lines. The continuation lines of a multi-line message are
// indented under its first line's text.
func eventLine(e hub.Event, loc *time.Location) (line string, system bool) {
	room := "#" + sanitize.Line(e.ChatRoomID)
	if e.ChatRoomID == directRoom {
		room = directRoom
	}
	head := time.Unix(e.UnixTime, 0).In(loc).Format(logTimeLayout) + " " + room + " "
	if line, system, ok := ui.Plain(e, loc, head); ok {
		return line, system
	}
	// Written by a newer server: say what little is known.
	reason := ""
	if r := strings.TrimSpace(sanitize.Line(e.Reason)); r != "" {
		reason = " (" + r + ")"
	}
	return head + sanitize.Name(e.UserID, e.Name) + " " + sanitize.Line(e.Type) + reason, true
}

// colorOutput reports whether w is a terminal that may be sent the faint
// attribute: not when NO_COLOR is set to anything but "" (no-color.org) or
// TERM is dumb.
func colorOutput(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// readStream prints the selected events of the cluster's stream: all of
// them, or the last c.n; with -f, then each new one until ctx ends.
func (c *logCmd) readStream(ctx context.Context, p *logPrinter) error {
	cfg := c.nats.cluster("sshchat-log", nil)
	keep := c.n
	if c.follow && keep < 0 {
		keep = followBacklog
	}
	var ring []history.Record // the last keep matching events, when keep ≥ 0
	last := uint64(0)
	collect := func(ev hub.Event) error {
		last = uint64(ev.ID)
		if !c.filter.Match(ev) {
			return nil
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode event %d: %w", ev.ID, err)
		}
		rec := history.Record{Event: ev, Raw: raw}
		if keep < 0 {
			return p.print(rec)
		}
		if keep > 0 {
			if len(ring) == keep {
				ring = append(ring[:0], ring[1:]...)
			}
			ring = append(ring, rec)
		}
		return nil
	}
	if err := cluster.Read(ctx, cfg, 1, false, collect); err != nil {
		return fmt.Errorf("read the stream: %w", err)
	}
	for _, rec := range ring {
		if err := p.print(rec); err != nil {
			return err
		}
	}
	if !c.follow {
		return nil
	}
	if err := p.flush(); err != nil {
		return err
	}
	keep = -1
	err := cluster.Read(ctx, cfg, last+1, true, func(ev hub.Event) error {
		if err := collect(ev); err != nil {
			return err
		}
		return p.flush()
	})
	if ctx.Err() != nil {
		return nil // interrupted: the normal end of a follow
	}
	return err
}
