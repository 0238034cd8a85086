package history

import (
	"strings"
	"unicode/utf8"

	"github.com/sshchat/sshchat/hub"
)

// The fields of a stored event, in the order the writer writes them.
const (
	fieldID = iota
	fieldChatRoomID
	fieldType
	fieldUserID
	fieldSessionID
	fieldName
	fieldMessage
	fieldReason
	fieldTo
	fieldToName
	fieldOldName
	fieldUntil
	fieldNode
	fieldUnixTime
)

// fieldOf is the field a key names, exactly as the writer spells it; -1
// for any other key.
func fieldOf(key string) int {
	switch key {
	case "id":
		return fieldID
	case "chatroomId":
		return fieldChatRoomID
	case "type":
		return fieldType
	case "userId":
		return fieldUserID
	case "sessionId":
		return fieldSessionID
	case "name":
		return fieldName
	case "message":
		return fieldMessage
	case "reason":
		return fieldReason
	case "to":
		return fieldTo
	case "toName":
		return fieldToName
	case "oldName":
		return fieldOldName
	case "until":
		return fieldUntil
	case "node":
		return fieldNode
	case "unixTime":
		return fieldUnixTime
	}
	return -1
}

// decodeFast decodes a line as the writer writes it, without reflection:
// one JSON object without spaces, each field of hub.Event at most once,
// spelt as encoding/json writes it, strings without escapes. The strings of
// the event share one allocation, the line's. ok is false for anything
// else, even valid JSON, which Decode then leaves to encoding/json: on
// what it accepts, decodeFast gives what json.Unmarshal does
// (FuzzDecodeFast checks it). Opening a log of many rooms decodes
// hundreds of thousands of lines, and this is several times quicker.
func decodeFast(b []byte) (e hub.Event, ok bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return e, false
	}
	s := string(b)
	var seen uint16
	for i := 1; ; {
		if i >= len(s) || s[i] != '"' {
			return e, false
		}
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return e, false
		}
		f := fieldOf(s[i+1 : i+1+j])
		i += j + 2
		if f < 0 || seen&(1<<f) != 0 || i >= len(s) || s[i] != ':' {
			return e, false
		}
		seen |= 1 << f
		i++
		if f == fieldID || f == fieldUntil || f == fieldUnixTime {
			n, end, ok := plainInt(s, i)
			if !ok {
				return e, false
			}
			switch f {
			case fieldID:
				e.ID = int(n)
			case fieldUntil:
				e.Until = n
			default:
				e.UnixTime = n
			}
			i = end
		} else {
			if i >= len(s) || s[i] != '"' {
				return e, false
			}
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return e, false
			}
			v := s[i+1 : i+1+j]
			if !plainString(v) {
				return e, false
			}
			*stringField(&e, f) = v
			i += j + 2
		}
		if i >= len(s) {
			return e, false
		}
		switch s[i] {
		case ',':
			i++
		case '}':
			return e, i == len(s)-1
		default:
			return e, false
		}
	}
}

func stringField(e *hub.Event, f int) *string {
	switch f {
	case fieldChatRoomID:
		return &e.ChatRoomID
	case fieldType:
		return &e.Type
	case fieldUserID:
		return &e.UserID
	case fieldSessionID:
		return &e.SessionID
	case fieldName:
		return &e.Name
	case fieldMessage:
		return &e.Message
	case fieldReason:
		return &e.Reason
	case fieldTo:
		return &e.To
	case fieldToName:
		return &e.ToName
	case fieldNode:
		return &e.Node
	}
	return &e.OldName
}

// plainString reports whether the body of a JSON string is its own value:
// no escape, no control character, valid UTF-8 (encoding/json would
// replace invalid bytes).
func plainString(v string) bool {
	high := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 || c == '\\':
			return false
		case c >= utf8.RuneSelf:
			high = true
		}
	}
	return !high || utf8.ValidString(v)
}

// plainInt reads the integer at s[i:]: -?(0|[1-9][0-9]*), at most 18
// digits so that it cannot overflow. end is just past it.
func plainInt(s string, i int) (n int64, end int, ok bool) {
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int64(s[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 18 || digits > 1 && s[start] == '0' {
		return 0, i, false
	}
	if neg {
		n = -n
	}
	return n, i, true
}
