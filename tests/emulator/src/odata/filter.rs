//! A parser for the part of OData `$filter` that Graph supports on the emulated endpoints
//! (OData v4.01 URL conventions §5.1.1; Graph docs `filter-query-parameter`). Anything it cannot parse is
//! a 400, never a guess.

use super::lexer::{tokenize, Tok};
use chrono::{DateTime, Utc};

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    DateTime(DateTime<Utc>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        path: Vec<String>,
        op: Op,
        value: Lit,
    },
    In {
        path: Vec<String>,
        values: Vec<Lit>,
    },
    StartsWith {
        path: Vec<String>,
        prefix: String,
    },
    /// `path/any(var: body)`; inside `body`, paths start with `var`.
    Any {
        path: Vec<String>,
        var: String,
        body: Box<Expr>,
    },
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

pub fn parse(s: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!(
            "unexpected {:?} after the expression",
            p.toks[p.pos]
        ));
    }
    Ok(e)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw)) {
            self.pos += 1;
            return true;
        }
        false
    }
    fn expect(&mut self, t: Tok) -> Result<(), String> {
        match self.next() {
            Some(got) if got == t => Ok(()),
            got => Err(format!("expected {t:?}, found {got:?}")),
        }
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.keyword("or") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.unary()?];
        while self.keyword("and") {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(e);
        }
        self.predicate()
    }
    fn path(&mut self) -> Result<Vec<String>, String> {
        let mut path = Vec::new();
        loop {
            match self.next() {
                Some(Tok::Ident(w)) => path.push(w),
                got => return Err(format!("expected a property name, found {got:?}")),
            }
            if self.peek() != Some(&Tok::Slash) {
                return Ok(path);
            }
            self.pos += 1;
        }
    }
    fn literal(&mut self) -> Result<Lit, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Lit(l)) => Ok(l),
            Some(Tok::Ident(w)) if w == "null" => Ok(Lit::Null),
            Some(Tok::Ident(w)) if w == "true" => Ok(Lit::Bool(true)),
            Some(Tok::Ident(w)) if w == "false" => Ok(Lit::Bool(false)),
            got => Err(format!("expected a literal, found {got:?}")),
        }
    }
    fn predicate(&mut self) -> Result<Expr, String> {
        let mut path = self.path()?;
        if self.peek() == Some(&Tok::Open) {
            let func = path.pop().unwrap_or_default();
            self.pos += 1;
            // Function names are case-insensitive in practice: Graph's own examples write `startsWith`.
            return match func.to_ascii_lowercase().as_str() {
                "startswith" if path.is_empty() => {
                    let arg = self.path()?;
                    self.expect(Tok::Comma)?;
                    let Lit::Str(prefix) = self.literal()? else {
                        return Err("startswith needs a string".into());
                    };
                    self.expect(Tok::Close)?;
                    Ok(Expr::StartsWith { path: arg, prefix })
                }
                "any" if !path.is_empty() => {
                    let Some(Tok::Ident(var)) = self.next() else {
                        return Err("any() needs a lambda variable".into());
                    };
                    self.expect(Tok::Colon)?;
                    let body = self.or()?;
                    self.expect(Tok::Close)?;
                    Ok(Expr::Any {
                        path,
                        var,
                        body: Box::new(body),
                    })
                }
                other => Err(format!("function '{other}' is not supported")),
            };
        }
        let op = match self.next() {
            Some(Tok::Ident(w)) => w.to_ascii_lowercase(),
            got => return Err(format!("expected an operator, found {got:?}")),
        };
        if op == "in" {
            self.expect(Tok::Open)?;
            let mut values = vec![self.literal()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                values.push(self.literal()?);
            }
            self.expect(Tok::Close)?;
            return Ok(Expr::In { path, values });
        }
        let op = match op.as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(format!("operator '{other}' is not supported")),
        };
        Ok(Expr::Cmp {
            path,
            op,
            value: self.literal()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sign_in_filters_as_graph_documents_them() {
        let e =
            parse("createdDateTime ge 2026-01-13T14:13:32Z and (userId eq 'a' or userId eq 'b')")
                .expect("parses");
        assert!(matches!(e, Expr::And(ref v) if v.len() == 2));
        let e =
            parse("signInEventTypes/any(t: t eq 'nonInteractiveUser' or t eq 'servicePrincipal')")
                .expect("parses");
        assert!(matches!(e, Expr::Any { ref var, .. } if var == "t"));
        assert!(parse("targetResources/any(t:t/id eq 'x')").is_ok());
        assert!(parse("id in ('a', 'b')").is_ok());
        assert!(parse("startswith(userPrincipalName,'ad')").is_ok());
        assert!(parse("startsWith(appDisplayName,'Graph')").is_ok());
        assert!(parse("not(accountEnabled eq true)").is_ok());
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse("contains(displayName,'x')").is_err());
        assert!(parse("userId eq 'a").is_err());
        assert!(parse("userId has 'a'").is_err());
        assert!(parse("createdDateTime ge 2026-13-99").is_err());
    }
}
