//! Tokens of the OPL subset, with byte spans into the source.
//!
//! The token set and its edge cases follow Keto's lexer (`schema/lexer.go` in ory/keto):
//! - whitespace is exactly the ASCII set `\t \n \v \f \r` and space; anything else that starts no token
//!   (a digit, `$`, `&` alone, a non-ASCII letter, a byte-order mark, …) is a lexing error;
//! - identifiers are `[A-Za-z_][A-Za-z0-9_]*`; `class`, `implements`, `this` and `ctx` are keywords, not
//!   identifiers;
//! - string literals are quoted with `'` or `"`, end at the next identical quote, know no escapes, may span
//!   lines, and carry their content (without the quotes) both as value and as span;
//! - `=>`, `||` and `&&` are the only two-character tokens (`>>` is two `>`);
//! - `//` and `/* */` comments are dropped; an unclosed `/*` or quote is an error spanning from the
//!   comment's start (or just after the opening quote) to the end of the input.
//!
//! Lexing stops at the first error. The parser reads past the end through [`Tokens`], which (like Keto's
//! lexer once it has stopped) answers every further read with an error token at offset 0.

use std::borrow::Cow;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A lexing error; the value is the message.
    Error,
    /// The end of the input (empty value).
    Eof,
    Identifier,
    StringLiteral,
    KwClass,
    KwImplements,
    KwThis,
    KwCtx,
    And,
    Or,
    Not,
    Assign,
    Arrow,
    Dot,
    Colon,
    Comma,
    Semicolon,
    TypeUnion,
    ParenLeft,
    ParenRight,
    BraceLeft,
    BraceRight,
    BracketLeft,
    BracketRight,
    AngledLeft,
    AngledRight,
}

/// One token: its kind, its value (the text, a string literal's content, or an error's message) and its
/// byte span `[start, end)` in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    pub val: Cow<'a, str>,
    pub start: usize,
    pub end: usize,
}

/// The value every read past the end of the token stream returns (Keto's stopped lexer does the same, at
/// offset 0).
pub(crate) const PAST_END: &str = "no more input after the end or after an invalid token";

impl<'a> Token<'a> {
    fn past_end() -> Self {
        Token { kind: Kind::Error, val: Cow::Borrowed(PAST_END), start: 0, end: 0 }
    }

    /// The token as a message shows it.
    pub(crate) fn show(&self) -> String {
        match self.kind {
            Kind::Eof => "end of input".to_owned(),
            Kind::Error if self.val == PAST_END => "no more input".to_owned(),
            Kind::Error if self.val.is_empty() => "nothing (an earlier part did not match)".to_owned(),
            Kind::Error => format!("invalid input ({})", self.val),
            Kind::StringLiteral => format!("string literal {:?}", shorten(&self.val)),
            Kind::KwClass | Kind::KwImplements | Kind::KwThis | Kind::KwCtx => format!("keyword {:?}", &*self.val),
            _ => format!("{:?}", shorten(&self.val)),
        }
    }
}

/// At most 40 characters of `s`, with an ellipsis when cut.
pub(crate) fn shorten(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(40) {
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
        None => Cow::Borrowed(s),
    }
}

const WHITESPACE: &[u8] = b"\t\n\x0b\x0c\r ";

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `src` into tokens, without comments, ending with an `Eof` or an `Error` token.
pub(crate) fn lex(src: &str) -> Vec<Token<'_>> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        while pos < bytes.len() && WHITESPACE.contains(&bytes[pos]) {
            pos += 1;
        }
        let start = pos;
        if pos == bytes.len() {
            out.push(Token { kind: Kind::Eof, val: Cow::Borrowed(""), start, end: start });
            return out;
        }
        let rest = &bytes[pos..];
        let two = match rest {
            [b'=', b'>', ..] => Some(Kind::Arrow),
            [b'|', b'|', ..] => Some(Kind::Or),
            [b'&', b'&', ..] => Some(Kind::And),
            _ => None,
        };
        if let Some(kind) = two {
            out.push(Token { kind, val: Cow::Borrowed(&src[pos..pos + 2]), start, end: pos + 2 });
            pos += 2;
            continue;
        }
        if rest.starts_with(b"//") {
            // A line comment runs up to (not including) the next newline.
            pos = match rest.iter().position(|&b| b == b'\n') {
                Some(n) => pos + n,
                None => bytes.len(),
            };
            continue;
        }
        if rest.starts_with(b"/*") {
            match src[pos + 2..].find("*/") {
                Some(n) => {
                    pos = pos + 2 + n + 2;
                    continue;
                }
                None => {
                    out.push(error(start, bytes.len(), "unclosed comment".to_owned()));
                    return out;
                }
            }
        }
        let one = match rest[0] {
            b':' => Some(Kind::Colon),
            b'.' => Some(Kind::Dot),
            b'(' => Some(Kind::ParenLeft),
            b')' => Some(Kind::ParenRight),
            b'[' => Some(Kind::BracketLeft),
            b']' => Some(Kind::BracketRight),
            b'{' => Some(Kind::BraceLeft),
            b'}' => Some(Kind::BraceRight),
            b'<' => Some(Kind::AngledLeft),
            b'>' => Some(Kind::AngledRight),
            b'=' => Some(Kind::Assign),
            b',' => Some(Kind::Comma),
            b';' => Some(Kind::Semicolon),
            b'|' => Some(Kind::TypeUnion),
            b'!' => Some(Kind::Not),
            _ => None,
        };
        if let Some(kind) = one {
            out.push(Token { kind, val: Cow::Borrowed(&src[pos..pos + 1]), start, end: pos + 1 });
            pos += 1;
            continue;
        }
        let quote = rest[0];
        if quote == b'"' || quote == b'\'' {
            let content_start = pos + 1;
            match bytes[content_start..].iter().position(|&b| b == quote) {
                Some(n) => {
                    let content_end = content_start + n;
                    out.push(Token {
                        kind: Kind::StringLiteral,
                        val: Cow::Borrowed(&src[content_start..content_end]),
                        start: content_start,
                        end: content_end,
                    });
                    pos = content_end + 1;
                    continue;
                }
                None => {
                    out.push(error(content_start, bytes.len(), "unclosed string literal".to_owned()));
                    return out;
                }
            }
        }
        if is_ident_start(rest[0]) {
            let len = rest.iter().position(|&b| !is_ident_continue(b)).unwrap_or(rest.len());
            let text = &src[pos..pos + len];
            let kind = match text {
                "class" => Kind::KwClass,
                "implements" => Kind::KwImplements,
                "this" => Kind::KwThis,
                "ctx" => Kind::KwCtx,
                _ => Kind::Identifier,
            };
            out.push(Token { kind, val: Cow::Borrowed(text), start, end: pos + len });
            pos += len;
            continue;
        }
        // `pos` is at a character boundary: every token above ends on an ASCII byte.
        let c = src[pos..].chars().next().unwrap_or('\u{fffd}');
        out.push(error(start, start, format!("unexpected character {c:?}")));
        return out;
    }
}

fn error(start: usize, end: usize, message: String) -> Token<'static> {
    Token { kind: Kind::Error, val: Cow::Owned(message), start, end }
}

/// A cursor over the tokens with one token of lookahead; reads past the last token yield [`PAST_END`]
/// error tokens at offset 0.
pub(crate) struct Tokens<'a> {
    tokens: Vec<Token<'a>>,
    next: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Tokens { tokens: lex(src), next: 0 }
    }

    /// The next token, consumed.
    pub(crate) fn next(&mut self) -> Token<'a> {
        let t = self.peek();
        self.next = self.next.saturating_add(1);
        t
    }

    /// The next token, not consumed.
    pub(crate) fn peek(&self) -> Token<'a> {
        self.tokens.get(self.next).cloned().unwrap_or_else(Token::past_end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        lex(src).into_iter().map(|t| (t.kind, t.val.into_owned())).collect()
    }

    #[test]
    fn lexes_operators_and_comments() {
        use Kind::*;
        let got = kinds("a=>b||c&&!d|e = /* x */ f // y\n>>");
        let want = vec![
            (Identifier, "a"),
            (Arrow, "=>"),
            (Identifier, "b"),
            (Or, "||"),
            (Identifier, "c"),
            (And, "&&"),
            (Not, "!"),
            (Identifier, "d"),
            (TypeUnion, "|"),
            (Identifier, "e"),
            (Assign, "="),
            (Identifier, "f"),
            (AngledRight, ">"),
            (AngledRight, ">"),
            (Eof, ""),
        ];
        assert_eq!(got, want.into_iter().map(|(k, v)| (k, v.to_owned())).collect::<Vec<_>>());
    }

    #[test]
    fn string_literal_spans_exclude_quotes() {
        let t = &lex(r#"x "a'b" 'c"d'"#);
        assert_eq!((t[1].kind, &*t[1].val, t[1].start, t[1].end), (Kind::StringLiteral, "a'b", 3, 6));
        assert_eq!((t[2].kind, &*t[2].val, t[2].start, t[2].end), (Kind::StringLiteral, "c\"d", 9, 12));
    }

    #[test]
    fn keywords_are_not_identifiers() {
        let got: Vec<Kind> = lex("class implements this ctx Namespace _x9").into_iter().map(|t| t.kind).collect();
        assert_eq!(
            got,
            [
                Kind::KwClass,
                Kind::KwImplements,
                Kind::KwThis,
                Kind::KwCtx,
                Kind::Identifier,
                Kind::Identifier,
                Kind::Eof
            ]
        );
    }

    // Mirrors keto schema/lexer_test.go, TestLexer suite=errors: "open comment", "open string literal",
    // "non-token", "mixed quotes".
    #[test]
    fn lexing_errors() {
        for (src, start, end, msg) in [
            ("/*", 0, 2, "unclosed comment"),
            ("'", 1, 1, "unclosed string literal"),
            ("ü", 0, 0, "unexpected character 'ü'"),
            ("\"invalid_literal'", 1, 17, "unclosed string literal"),
            ("  1", 2, 2, "unexpected character '1'"),
            ("a & b", 2, 2, "unexpected character '&'"),
        ] {
            let t = lex(src);
            let last = t.last().unwrap();
            assert_eq!((last.kind, &*last.val, last.start, last.end), (Kind::Error, msg, start, end), "{src:?}");
        }
    }

    #[test]
    fn reads_past_the_end() {
        let mut t = Tokens::new("x");
        assert_eq!(t.next().kind, Kind::Identifier);
        assert_eq!(t.next().kind, Kind::Eof);
        let past = t.next();
        assert_eq!((past.kind, past.start, past.end), (Kind::Error, 0, 0));
        assert_eq!(t.peek().kind, Kind::Error);
    }
}
