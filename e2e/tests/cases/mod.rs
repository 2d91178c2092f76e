mod api;
mod api_keys;
mod data_plane;
mod dev;
mod isolation;
mod platform;
mod projects;
mod workspaces;
