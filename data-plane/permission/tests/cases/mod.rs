mod check_table;
mod differential;
mod expand_table;
mod fixtures;
