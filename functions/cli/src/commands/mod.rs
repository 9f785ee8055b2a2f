pub mod alerts_test;
pub mod config_check;
pub mod demo;
pub mod emulator;
pub mod inventory;
pub mod run;
pub mod token;
