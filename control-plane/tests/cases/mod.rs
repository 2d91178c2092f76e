mod directory;
mod store;
