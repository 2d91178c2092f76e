mod api;
mod api_keys;
mod dev;
mod isolation;
mod platform;
mod projects;
mod workspaces;
