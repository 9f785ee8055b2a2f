//! Placeholder: the validator core is built in issue 6.
