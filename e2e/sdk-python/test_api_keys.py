"""Workspace and project API keys: create, list, delete, and what a key can do afterwards."""

from __future__ import annotations

import datetime
import time

import ory_client

from sdk_helpers import expect_api_error, unique


def test_workspace_api_key_lifecycle(tenant, clients_for):
    """A workspace key is shown once, listed by its last characters, works, and stops working when deleted."""
    name = unique("wak")
    created = tenant.workspace.create_workspace_api_key(
        tenant.workspace_id, ory_client.CreateWorkspaceApiKeyBody(name=name)
    )
    assert isinstance(created, ory_client.WorkspaceApiKey)
    assert created.name == name
    assert created.value and created.value.startswith("ory_wak_")
    assert str(created.workspace_id) == tenant.workspace_id
    if created.last_characters is not None:
        assert created.last_characters == created.value[-4:]

    listed = tenant.workspace.list_workspace_api_keys(tenant.workspace_id)
    assert isinstance(listed, list)
    assert all(isinstance(k, ory_client.WorkspaceApiKey) for k in listed)
    assert all(k.value is None for k in listed), "list must never reveal a key's value"
    mine = next(k for k in listed if k.id == created.id)
    assert mine.name == name
    assert mine.last_characters == created.value[-4:]

    new_key_clients = clients_for(created.value)
    assert str(new_key_clients.workspace.get_workspace(tenant.workspace_id).id) == tenant.workspace_id
    assert isinstance(new_key_clients.project.list_projects(), list)

    assert tenant.workspace.delete_workspace_api_key(tenant.workspace_id, str(created.id)) is None
    assert created.id not in {k.id for k in tenant.workspace.list_workspace_api_keys(tenant.workspace_id)}
    expect_api_error(401, new_key_clients.workspace.get_workspace, tenant.workspace_id)
    expect_api_error(401, new_key_clients.project.list_projects)
    # The key that created and deleted it still works.
    assert isinstance(tenant.workspace.get_workspace(tenant.workspace_id), ory_client.Workspace)


def test_project_api_key_lifecycle(tenant, project, clients_for):
    """A project key is shown once, listed by its last characters, works, and stops working when deleted."""
    pid = str(project.id)
    name = unique("pat")
    created = tenant.project.create_project_api_key(pid, ory_client.CreateProjectApiKeyBody(name=name))
    assert isinstance(created, ory_client.ProjectApiKey)
    assert created.name == name
    assert created.value and created.value.startswith("ory_pat_")
    assert str(created.project_id) == pid
    if created.last_characters is not None:
        assert created.last_characters == created.value[-4:]

    listed = tenant.project.list_project_api_keys(pid)
    assert isinstance(listed, list)
    assert all(isinstance(k, ory_client.ProjectApiKey) for k in listed)
    assert all(k.value is None for k in listed), "list must never reveal a key's value"
    mine = next(k for k in listed if k.id == created.id)
    assert mine.name == name
    assert mine.last_characters == created.value[-4:]

    project_clients = clients_for(created.value)
    fetched = project_clients.project.get_project(pid)
    assert isinstance(fetched, ory_client.Project) and fetched.id == project.id

    assert tenant.project.delete_project_api_key(pid, str(created.id)) is None
    assert created.id not in {k.id for k in tenant.project.list_project_api_keys(pid)}
    expect_api_error(401, project_clients.project.get_project, pid)


def test_project_key_manages_its_project_and_keys(tenant, project, clients_for):
    """A project key sets and patches its project and creates, lists and deletes its project's keys."""
    pid = str(project.id)
    own = tenant.project.create_project_api_key(pid, ory_client.CreateProjectApiKeyBody(name=unique("pat")))
    with_key = clients_for(own.value)

    patched = with_key.project.patch_project(pid, [ory_client.JsonPatch(op="replace", path="/name", value="by-pat")])
    assert isinstance(patched, ory_client.SuccessfulProjectUpdate) and patched.project.name == "by-pat"

    current = with_key.project.get_project(pid)
    put = with_key.project.set_project(
        pid,
        ory_client.SetProject(
            name="by-pat-put",
            services=current.services,
            cors_public=current.cors_public,
            cors_admin=current.cors_admin,
            organizations=[],
        ),
    )
    assert isinstance(put, ory_client.SuccessfulProjectUpdate) and put.project.name == "by-pat-put"

    second = with_key.project.create_project_api_key(pid, ory_client.CreateProjectApiKeyBody(name=unique("pat2")))
    assert isinstance(second, ory_client.ProjectApiKey) and second.value
    assert {own.id, second.id} <= {k.id for k in with_key.project.list_project_api_keys(pid)}
    assert with_key.project.delete_project_api_key(pid, str(second.id)) is None
    expect_api_error(401, clients_for(second.value).project.get_project, pid)


def test_deleting_an_unknown_key_is_404(tenant, project):
    """Deleting a key id that does not exist answers 404."""
    missing = "00000000-0000-4000-8000-000000000000"
    expect_api_error(404, tenant.project.delete_project_api_key, str(project.id), missing)
    expect_api_error(404, tenant.workspace.delete_workspace_api_key, tenant.workspace_id, missing)


def test_seeded_keys_are_listed_without_values(seeded, dev):
    """The keys `tessera dev` seeded are listed with last_characters matching dev.json."""
    workspace_keys = seeded.workspace.list_workspace_api_keys(dev["workspace_id"])
    assert dev["workspace_api_key"][-4:] in {k.last_characters for k in workspace_keys}
    project_keys = seeded.project.list_project_api_keys(dev["project"]["id"])
    assert dev["project"]["api_key"][-4:] in {k.last_characters for k in project_keys}
    assert all(k.value is None for k in [*workspace_keys, *project_keys])


def test_keys_stop_working_when_they_expire(tenant, project, clients_for):
    """Keys created with expires_at work until then and answer 401 afterwards; a past expires_at is 400."""
    pid = str(project.id)
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
    project_key = tenant.project.create_project_api_key(pid, ory_client.CreateProjectApiKeyBody(name="short", expires_at=soon))
    workspace_key = tenant.workspace.create_workspace_api_key(
        tenant.workspace_id, ory_client.CreateWorkspaceApiKeyBody(name="short", expires_at=soon)
    )
    for key in (project_key, workspace_key):
        assert key.expires_at is not None
        assert abs((key.expires_at - soon).total_seconds()) < 1
    listed = {k.id: k for k in tenant.project.list_project_api_keys(pid)}
    assert listed[project_key.id].expires_at == project_key.expires_at

    assert clients_for(project_key.value).project.get_project(pid).id == project.id
    assert str(clients_for(workspace_key.value).workspace.get_workspace(tenant.workspace_id).id) == tenant.workspace_id

    time.sleep(max(0.0, (soon - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 0.5)
    expect_api_error(401, clients_for(project_key.value).project.get_project, pid)
    expect_api_error(401, clients_for(workspace_key.value).workspace.get_workspace, tenant.workspace_id)

    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    expect_api_error(400, tenant.project.create_project_api_key, pid, ory_client.CreateProjectApiKeyBody(name="old", expires_at=past))
    expect_api_error(
        400, tenant.workspace.create_workspace_api_key, tenant.workspace_id, ory_client.CreateWorkspaceApiKeyBody(name="old", expires_at=past)
    )


def test_project_slug_is_accepted_where_the_sdk_says_id_or_slug(tenant, project, new_tenant):
    """The token endpoints' {project} ("The Project ID or Project slug" in Ory's spec) accepts the slug."""
    slug = project.slug
    created = tenant.project.create_project_api_key(slug, ory_client.CreateProjectApiKeyBody(name=unique("by-slug")))
    assert isinstance(created, ory_client.ProjectApiKey) and str(created.project_id) == str(project.id)
    assert created.id in {k.id for k in tenant.project.list_project_api_keys(slug)}
    assert tenant.project.delete_project_api_key(slug, str(created.id)) is None
    assert created.id not in {k.id for k in tenant.project.list_project_api_keys(str(project.id))}
    # Another workspace cannot reach it by slug either.
    expect_api_error(404, new_tenant().project.list_project_api_keys, slug)
