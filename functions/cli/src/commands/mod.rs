pub mod alerts_test;
pub mod config_check;
pub mod demo;
pub mod emulator;
pub mod run;
pub mod token;
