"""Workspaces through ory_client.WorkspaceApi: create, get, update, list (paged), list projects."""

from __future__ import annotations

import ory_client

from sdk_helpers import list_workspace_projects_page, unique


def test_operator_creates_workspace(operator):
    """The operator key creates a workspace and the SDK parses it into a Workspace."""
    name = unique("sdk-ws")
    workspace = operator.workspace.create_workspace(ory_client.CreateWorkspaceBody(name=name))
    assert isinstance(workspace, ory_client.Workspace)
    assert workspace.name == name
    assert workspace.created_at is not None and workspace.updated_at is not None

    fetched = operator.workspace.get_workspace(str(workspace.id))
    assert isinstance(fetched, ory_client.Workspace)
    assert fetched.id == workspace.id and fetched.name == name


def test_workspace_key_gets_its_workspace(tenant):
    """A workspace API key reads its own workspace."""
    workspace = tenant.workspace.get_workspace(tenant.workspace_id)
    assert isinstance(workspace, ory_client.Workspace)
    assert str(workspace.id) == tenant.workspace_id


def test_update_workspace_renames_it(tenant):
    """update_workspace changes the name, and a later GET sees the new name."""
    before = tenant.workspace.get_workspace(tenant.workspace_id)
    new_name = unique("renamed")
    updated = tenant.workspace.update_workspace(tenant.workspace_id, ory_client.UpdateWorkspaceBody(name=new_name))
    assert isinstance(updated, ory_client.Workspace)
    assert updated.name == new_name
    assert updated.id == before.id
    assert updated.created_at == before.created_at
    assert updated.updated_at >= before.updated_at
    assert tenant.workspace.get_workspace(tenant.workspace_id).name == new_name


def test_list_workspaces_with_workspace_key_shows_only_its_own(tenant):
    """A workspace key lists exactly its own workspace, with no next page."""
    listing = tenant.workspace.list_workspaces()
    assert isinstance(listing, ory_client.ListWorkspaces)
    assert [str(w.id) for w in listing.workspaces] == [tenant.workspace_id]
    assert listing.has_next_page is False
    assert listing.next_page_token == ""


def test_list_workspaces_pages_through_everything(operator):
    """Paging with page_size=1 uses has_next_page/next_page_token and visits each workspace once."""
    created = {
        str(operator.workspace.create_workspace(ory_client.CreateWorkspaceBody(name=unique("page"))).id)
        for _ in range(3)
    }
    first = operator.workspace.list_workspaces(page_size=1)
    assert isinstance(first, ory_client.ListWorkspaces)
    assert len(first.workspaces) == 1
    assert first.has_next_page is True
    assert first.next_page_token != ""

    seen: list[str] = [str(w.id) for w in first.workspaces]
    page = first
    for _ in range(10_000):
        if not page.has_next_page:
            break
        page = operator.workspace.list_workspaces(page_size=10, page_token=page.next_page_token)
        assert isinstance(page, ory_client.ListWorkspaces)
        assert 1 <= len(page.workspaces) <= 10
        seen.extend(str(w.id) for w in page.workspaces)
    assert page.has_next_page is False
    assert page.next_page_token == ""
    assert len(seen) == len(set(seen)), "a workspace appeared on two pages"
    assert created <= set(seen)

    everything = operator.workspace.list_workspaces(page_size=1000)
    assert {str(w.id) for w in everything.workspaces} == set(seen)


def test_list_workspace_projects(tenant, new_project):
    """list_workspace_projects returns the workspace's projects as ProjectMetadata."""
    assert tenant.workspace.list_workspace_projects(tenant.workspace_id).projects == []
    made = {str(new_project(environment=env).id): env for env in ("prod", "dev")}

    listing = tenant.workspace.list_workspace_projects(tenant.workspace_id)
    assert isinstance(listing, ory_client.ListWorkspaceProjects)
    assert {str(p.id): p.environment for p in listing.projects} == made
    for metadata in listing.projects:
        assert isinstance(metadata, ory_client.ProjectMetadata)
        assert metadata.workspace_id == tenant.workspace_id
        assert metadata.state == "running"
        assert metadata.hosts, "a project has at least one host"
    assert listing.has_next_page is False
    assert listing.next_page == ""


def test_list_workspace_projects_pages(tenant, new_project):
    """page_size/page_token on /workspaces/{id}/projects page through every project once."""
    made = {str(new_project().id) for _ in range(3)}

    first = list_workspace_projects_page(tenant.clients, tenant.workspace_id, page_size=1)
    assert isinstance(first, ory_client.ListWorkspaceProjects)
    assert len(first.projects) == 1
    assert first.has_next_page is True and first.next_page != ""

    seen = [str(p.id) for p in first.projects]
    page = first
    for _ in range(10):
        if not page.has_next_page:
            break
        page = list_workspace_projects_page(tenant.clients, tenant.workspace_id, page_size=1, page_token=page.next_page)
        seen.extend(str(p.id) for p in page.projects)
    assert page.has_next_page is False and page.next_page == ""
    assert sorted(seen) == sorted(made)
