// Package sanitize makes text that came from a user safe to show on a
// terminal and to store.
//
// Text is for message bodies (newlines kept), Line for everything shown on
// one line (names, reasons, room names). Both remove whatever could move the
// cursor, change the terminal's state, reorder or hide text:
//   - invalid UTF-8: each run of invalid bytes becomes one U+FFFD, so a
//     reader sees that something was lost;
//   - C0 controls (but '\n' in Text), DEL and the C1 controls U+0080–U+009F.
//     A tab becomes one space; CR LF and a lone CR become '\n' (a space in
//     Line), and so do U+2028 and U+2029;
//   - whole escape sequences, not only their ESC: CSI (ESC [ … final byte),
//     OSC (ESC ] … BEL or ST), DCS, SOS, PM and APC (ESC P, X, ^, _ … ST),
//     the two-byte and nF sequences (ESC, intermediates, final byte), and the
//     8-bit forms of CSI, OSC, DCS, SOS, PM and APC. As on a terminal, a
//     string sequence also ends at CAN, SUB or at the next ESC. An
//     unterminated OSC, DCS, SOS, PM or APC swallows the rest of the input:
//     a terminal would have done the same with everything after it;
//   - bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
//     U+2066–U+2069) and invisible characters (U+00AD, U+180E, U+200B,
//     U+2060–U+2064, U+206A–U+206F, U+FEFF, U+FFF9–U+FFFB);
//   - joiners and selectors that join nothing. ZWJ, ZWNJ, variation
//     selectors and tag characters are kept inside a grapheme cluster with
//     a visible base, so emoji sequences such as 👩‍💻 survive; they are
//     removed at the start of a line, after whitespace or a mark, and when
//     doubled.
//
// Clean input is returned as is, without allocating. Sanitizing is
// idempotent: Text(Text(s)) == Text(s) and Line(Line(s)) == Line(s).
//
// The package knows nothing of users, chat or terminals beyond this.
package sanitize
