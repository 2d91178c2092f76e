//! Value types that validate while they deserialize, so a bad value fails with the key's path.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// A Go-style duration (`"1h"`, `"15m"`, `"1h30m"`, `"500ms"`), as Ory configs write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoDuration(pub Duration);

impl GoDuration {
    /// A duration of whole seconds.
    pub const fn secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }

    /// Parses `"72h"`, `"1h30m"`, `"1.5h"`, `"250ms"`; units ns, us, µs, ms, s, m, h.
    pub fn parse(text: &str) -> Result<Self, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err("empty duration".to_owned());
        }
        if s == "0" {
            return Ok(Self(Duration::ZERO));
        }
        let mut total = 0f64;
        let mut rest = s;
        while !rest.is_empty() {
            let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
            if num_len == 0 {
                return Err(format!("`{text}` is not a duration such as 30s, 15m or 1h30m"));
            }
            let number: f64 =
                rest[..num_len].parse().map_err(|_| format!("`{text}` is not a duration such as 30s, 15m or 1h30m"))?;
            rest = &rest[num_len..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
            let factor = match &rest[..unit_len] {
                "ns" => 1e-9,
                "us" | "µs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                "" => return Err(format!("`{text}` is missing a unit (s, m or h)")),
                other => {
                    return Err(format!("`{other}` in `{text}` is not a duration unit (ns, us, ms, s, m, h)"));
                }
            };
            total += number * factor;
            rest = &rest[unit_len..];
        }
        if !total.is_finite() || total > 10.0 * 365.0 * 86400.0 {
            return Err(format!("`{text}` is longer than ten years"));
        }
        Ok(Self(Duration::from_secs_f64(total)))
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0.as_secs();
        let millis = self.0.subsec_millis();
        if total == 0 && millis > 0 {
            return write!(f, "{millis}ms");
        }
        let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if m > 0 {
            out.push_str(&format!("{m}m"));
        }
        if s > 0 || out.is_empty() {
            out.push_str(&format!("{s}s"));
        }
        f.write_str(&out)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        GoDuration::parse(&text).map_err(de::Error::custom)
    }
}

/// An absolute `http` or `https` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(pub url::Url);

impl HttpUrl {
    /// Parses and checks the scheme.
    pub fn parse(text: &str) -> Result<Self, String> {
        let u = url::Url::parse(text).map_err(|e| format!("`{text}` is not an absolute URL: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(format!("`{text}` must be an http or https URL with a host"));
        }
        Ok(Self(u))
    }
}

impl Serialize for HttpUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HttpUrl::parse(&text).map_err(de::Error::custom)
    }
}

/// An integer that must lie within bounds; the bounds are part of the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Bounded<const MIN: i64, const MAX: i64>(pub i64);

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        if (MIN..=MAX).contains(&n) {
            Ok(Self(n))
        } else {
            Err(de::Error::custom(format!("{n} is out of range; expected {MIN} to {MAX}")))
        }
    }
}

/// A size such as `"128MB"`, `"64MiB"` or a number of bytes, as Kratos writes argon2 memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `"128MB"`, `"64MiB"`, `"512KB"`, `"1GB"` or a plain byte count.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let n: u64 = t[..split].parse().map_err(|_| format!("`{text}` is not a size such as 64MB"))?;
        let factor: u64 = match t[split..].trim().to_ascii_uppercase().as_str() {
            "" | "B" => 1,
            "KB" | "KIB" => 1024,
            "MB" | "MIB" => 1024 * 1024,
            "GB" | "GIB" => 1024 * 1024 * 1024,
            other => return Err(format!("`{other}` is not a size unit (B, KB, MB, GB)")),
        };
        n.checked_mul(factor).map(Self).ok_or_else(|| format!("`{text}` is too large"))
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(1024 * 1024) {
            s.collect_str(&format_args!("{}MB", self.0 / (1024 * 1024)))
        } else {
            s.collect_str(&format_args!("{}B", self.0))
        }
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => Ok(Self(n)),
            Raw::Text(t) => ByteSize::parse(&t).map_err(de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(GoDuration::parse("72h").unwrap(), GoDuration::secs(72 * 3600));
        assert_eq!(GoDuration::parse("1h30m").unwrap(), GoDuration::secs(5400));
        assert_eq!(GoDuration::parse("1.5h").unwrap(), GoDuration::secs(5400));
        assert_eq!(GoDuration::parse("250ms").unwrap().0, Duration::from_millis(250));
        assert_eq!(GoDuration::parse("0").unwrap().0, Duration::ZERO);
        for bad in ["", "5", "h", "5d", "1h-3m", "99999999h"] {
            assert!(GoDuration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(GoDuration::secs(5400).to_string(), "1h30m");
        assert_eq!(GoDuration::secs(0).to_string(), "0s");
    }

    #[test]
    fn urls_sizes_and_bounds() {
        assert!(HttpUrl::parse("https://example.com/x").is_ok());
        assert!(HttpUrl::parse("file:///etc/passwd").is_err());
        assert!(HttpUrl::parse("/relative").is_err());
        assert_eq!(ByteSize::parse("64MB").unwrap().0, 64 * 1024 * 1024);
        assert_eq!(ByteSize::parse("1024").unwrap().0, 1024);
        assert!(ByteSize::parse("12 parsecs").is_err());
        assert!(serde_json::from_str::<Bounded<6, 10>>("5").is_err());
        assert_eq!(serde_json::from_str::<Bounded<6, 10>>("7").unwrap().0, 7);
    }
}
