// Package vtanswers passes a test terminal's answers back to the server,
// as a real terminal sends them with the keys typed: the end-to-end tests
// read their screens through x/vt, which answers the server's questions
// (about modes, the cursor) on its input side.
package vtanswers

import (
	"io"

	"github.com/charmbracelet/x/vt"
)

// Pass writes the answers of term to w until term's input closes. Once a
// write to w fails (the session is gone) the answers are read and
// dropped: the emulator waits until an answer is read, and with it the
// goroutine that writes the screen to it.
func Pass(w io.Writer, term *vt.Emulator) {
	buf := make([]byte, 256)
	gone := false
	for {
		n, err := term.Read(buf)
		if n > 0 && !gone {
			_, werr := w.Write(buf[:n])
			gone = werr != nil
		}
		if err != nil {
			return
		}
	}
}
