//! Fully qualified names, built and split as OpenMetadata does.
//!
//! An FQN is its parent's FQN, a dot, and the entity's name; a name that contains a dot
//! is wrapped in double quotes: `svc.db.sch."my.table".col`. Names may not contain a
//! double quote themselves.

use crate::domain::error::{Error, Result};

/// Quotes `name` if it contains a dot; rejects names that cannot be part of an FQN.
pub fn quote(name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::invalid("name must not be empty"));
    }
    let inner = name
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .filter(|n| !n.is_empty());
    if let Some(inner) = inner {
        if inner.contains('"') {
            return Err(Error::invalid(format!(
                "name {name:?} contains a double quote, which FQNs cannot carry"
            )));
        }
        return Ok(if inner.contains('.') {
            name.to_string()
        } else {
            inner.to_string()
        });
    }
    if name.contains('"') {
        return Err(Error::invalid(format!(
            "name {name:?} contains a double quote, which FQNs cannot carry"
        )));
    }
    Ok(if name.contains('.') {
        format!("\"{name}\"")
    } else {
        name.to_string()
    })
}

/// `parent.quote(name)`, or just the quoted name at the root.
pub fn build(parent: Option<&str>, name: &str) -> Result<String> {
    let q = quote(name)?;
    Ok(match parent {
        Some(p) => format!("{p}.{q}"),
        None => q,
    })
}

/// Splits an FQN at the dots outside quotes; quotes are removed from the parts.
pub fn split(fqn: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in fqn.chars() {
        match ch {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// The parent FQN (everything before the last unquoted dot), if any.
pub fn parent(fqn: &str) -> Option<&str> {
    let mut quoted = false;
    let mut last = None;
    for (i, ch) in fqn.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '.' if !quoted => last = Some(i),
            _ => {}
        }
    }
    last.map(|i| &fqn[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_splitting() {
        assert_eq!(quote("orders").unwrap(), "orders");
        assert_eq!(quote("my.table").unwrap(), "\"my.table\"");
        assert_eq!(quote("\"my.table\"").unwrap(), "\"my.table\"");
        assert_eq!(quote("\"plain\"").unwrap(), "plain");
        assert!(quote("a\"b").is_err());
        assert!(quote("").is_err());
        let f = build(Some("svc.db.sch"), "my.table").unwrap();
        assert_eq!(f, "svc.db.sch.\"my.table\"");
        assert_eq!(split(&f), vec!["svc", "db", "sch", "my.table"]);
        assert_eq!(parent(&f), Some("svc.db.sch"));
        assert_eq!(parent("svc"), None);
    }
}
