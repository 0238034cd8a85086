package ui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"slices"

	"github.com/sshchat/sshchat/sanitize"
)

// maxInputHistory bounds the lines Up and Down walk through.
const maxInputHistory = 100

const prompt = "> "

// input is the line being typed, with the history of the lines sent.
type input struct {
	st    *styles
	ti    textinput.Model
	width int

	comp completion // what Tab is cycling through

	history []string // oldest first
	pos     int      // the entry shown while walking; len(history) when not walking
	draft   string   // what was typed before walking

	view  string // cached
	cells int    // the view's width
	dirty bool
}

// newInput makes the input line, its styles from the session's renderer.
func newInput(st *styles, r *lipgloss.Renderer, limit int) input {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.CharLimit = limit
	// textinput's defaults come from the global renderer.
	ti.PromptStyle = r.NewStyle().Foreground(lipgloss.Color("75"))
	ti.TextStyle = r.NewStyle()
	ti.PlaceholderStyle = r.NewStyle().Foreground(lipgloss.Color("240"))
	ti.Cursor.Style = r.NewStyle()
	ti.Cursor.TextStyle = ti.TextStyle
	// Ctrl+V would read the clipboard of the machine running the server.
	ti.KeyMap.Paste.SetEnabled(false)
	// A blinking cursor costs a timer and a frame twice a second, per session.
	ti.Cursor.SetMode(cursor.CursorStatic)
	// Tab is the model's: one completion, of commands and of names.
	ti.ShowSuggestions = false
	ti.KeyMap.AcceptSuggestion.SetEnabled(false)
	ti.KeyMap.NextSuggestion.SetEnabled(false)
	ti.KeyMap.PrevSuggestion.SetEnabled(false)
	ti.Focus()
	return input{st: st, ti: ti, dirty: true}
}

// SetSize sets the width of the line, prompt included.
func (in *input) SetSize(width int) {
	in.width = width
	// One cell for the cursor after the text.
	in.ti.Width = max(width-ansi.StringWidth(prompt)-1, 1)
	in.dirty = true
}

// update passes a key to the text field.
func (in *input) update(msg tea.Msg) tea.Cmd {
	in.comp = completion{}
	if k, ok := msg.(tea.KeyMsg); ok && len(k.Runes) > 0 {
		// textinput sanitizes the runes in place, and Bubble Tea hands
		// every program the same slice for a space: write only to a copy.
		k.Runes = slices.Clone(k.Runes)
		msg = k
	}
	var cmd tea.Cmd
	in.ti, cmd = in.ti.Update(msg)
	// The field drops control characters; drop what else could reorder or
	// hide the text being typed.
	if v := in.ti.Value(); sanitize.Line(v) != v {
		in.ti.SetValue(sanitize.Line(v))
	}
	in.dirty = true
	return cmd
}

func (in *input) value() string { return in.ti.Value() }

func (in *input) set(s string) {
	in.ti.SetValue(s)
	in.ti.CursorEnd()
	in.comp = completion{}
	in.dirty = true
}

// sent clears the line and remembers s for Up and Down.
func (in *input) sent(s string) {
	if n := len(in.history); n == 0 || in.history[n-1] != s {
		if n == maxInputHistory {
			copy(in.history, in.history[1:])
			in.history = in.history[:n-1]
		}
		in.history = append(in.history, s)
	}
	in.pos, in.draft = len(in.history), ""
	in.ti.Reset()
	in.comp = completion{}
	in.dirty = true
}

// prev shows the previous line sent, keeping what was being typed.
func (in *input) prev() {
	if in.pos == 0 {
		return
	}
	if in.pos == len(in.history) {
		in.draft = in.ti.Value()
	}
	in.pos--
	in.set(in.history[in.pos])
}

// next walks forward through the lines sent, then back to the draft.
func (in *input) next() {
	if in.pos >= len(in.history) {
		return
	}
	in.pos++
	if in.pos == len(in.history) {
		in.set(in.draft)
		return
	}
	in.set(in.history[in.pos])
}

// View renders the line, never wider than its width, and says how wide
// it is.
func (in *input) View() (string, int) {
	if in.dirty {
		in.dirty = false
		whole := in.st.show(in.ti.View())
		in.view = whole
		in.cells = in.st.styledWidth(in.view)
		// textinput measures otherwise than the terminal may: trim any
		// excess, a cell or a cluster at a time.
		for cut := in.width; in.cells > in.width && cut > 0; {
			cut -= in.cells - in.width
			in.view = ansi.Truncate(whole, cut, "")
			in.cells = in.st.styledWidth(in.view)
		}
	}
	return in.view, in.cells
}
