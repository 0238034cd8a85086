package ui

import "github.com/charmbracelet/bubbles/key"

// keyMap holds the keys the chat itself handles; every other key goes to
// the input line, whose own keys edit it as in a shell: Ctrl+A/Home and
// Ctrl+E/End to the start and end, Alt+B and Alt+F a word back and
// forward, Ctrl+W deletes a word back, Ctrl+U to the start, Ctrl+K to
// the end.
type keyMap struct {
	Send     key.Binding
	Complete key.Binding // a command or a name; again for the next match
	Quit     key.Binding
	Suspend  key.Binding // swallowed: suspending would stop the whole server
	Prev     key.Binding // input history
	Next     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Follow   key.Binding // back to the bottom; End moves in the input when already there
	Redraw   key.Binding // paints the whole screen again, after something else wrote on it
	Room     key.Binding // Alt+1…9: the room of that number in the room list
	NextRoom key.Binding
	PrevRoom key.Binding
}

func defaultKeyMap() keyMap {
	return keyMap{
		Send:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("Enter", "send")),
		Complete: key.NewBinding(key.WithKeys("tab"), key.WithHelp("Tab", "complete a command or a name")),
		Quit:     key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("Ctrl+C", "quit")),
		Suspend:  key.NewBinding(key.WithKeys("ctrl+z")),
		Prev:     key.NewBinding(key.WithKeys("up"), key.WithHelp("Up/Down", "input history")),
		Next:     key.NewBinding(key.WithKeys("down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("PgUp/PgDn", "scroll")),
		PageDown: key.NewBinding(key.WithKeys("pgdown")),
		Follow:   key.NewBinding(key.WithKeys("end"), key.WithHelp("End", "back to the bottom")),
		Redraw:   key.NewBinding(key.WithKeys("ctrl+l"), key.WithHelp("Ctrl+L", "redraw the screen")),
		Room: key.NewBinding(key.WithKeys("alt+1", "alt+2", "alt+3", "alt+4", "alt+5", "alt+6", "alt+7", "alt+8", "alt+9"),
			key.WithHelp("Alt+1..9", "show the room of that number")),
		NextRoom: key.NewBinding(key.WithKeys("ctrl+n"), key.WithHelp("Ctrl+N/Ctrl+P", "show the next or the previous room")),
		PrevRoom: key.NewBinding(key.WithKeys("ctrl+p")),
	}
}

// editKeys are the input line's own keys (bubbles' textinput), for /help.
var editKeys = []key.Help{
	{Key: "Left/Right", Desc: "move a character"},
	{Key: "Alt+B/Alt+F", Desc: "move a word back or forward"},
	{Key: "Ctrl+A/Home", Desc: "to the start of the line"},
	{Key: "Ctrl+E/End", Desc: "to the end of the line"},
	{Key: "Backspace/Del", Desc: "delete a character back or forward"},
	{Key: "Ctrl+W", Desc: "delete a word back"},
	{Key: "Alt+D", Desc: "delete a word forward"},
	{Key: "Ctrl+U", Desc: "delete to the start of the line"},
	{Key: "Ctrl+K", Desc: "delete to the end of the line"},
}

// help lists every key, for /help: the chat's, then the input line's.
func (k keyMap) help() []key.Help {
	var hs []key.Help
	for _, b := range []key.Binding{k.Send, k.Complete, k.Prev, k.PageUp, k.Follow, k.Room, k.NextRoom, k.Redraw, k.Quit} {
		if h := b.Help(); h.Key != "" {
			hs = append(hs, h)
		}
	}
	hs = append(hs, key.Help{Key: "mouse wheel", Desc: "scroll"})
	return append(hs, editKeys...)
}
