-- A region's copy of the directory: the newest record of every project, and how far into the log it is.
-- Loaded into memory at start, so the worker serves at once even when the control plane is unreachable.

CREATE TABLE directory_projects (
    project_id BLOB PRIMARY KEY,
    seq INTEGER NOT NULL,
    record TEXT NOT NULL
);

CREATE TABLE directory_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- Every entry up to and including this sequence number has been applied.
    seq INTEGER NOT NULL
);
INSERT INTO directory_cursor (id, seq) VALUES (1, 0);
