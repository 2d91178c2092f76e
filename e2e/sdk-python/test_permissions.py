"""The permission API (Ory Keto's, served on a project's URL) through the SDK's RelationshipApi and PermissionApi.

Each test makes its own project (with the workspace key `tessera dev` seeded), gives it a project API key
and, through the control plane, the OPL document below; it then reaches the project's Keto API at
`<region>/p/<slug>` with that key: through the home region, and through the other region (forwarded).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import ory_client
import pytest
from ory_client.exceptions import ApiException, ForbiddenException

from sdk_helpers import expect_api_error, make_clients, raw_request, unique

# Users, nested groups, folders and documents, after the examples in Ory's documentation. Keto's
# parser gives && and || no precedence, so the `view` permit of Document is parenthesised.
OPL = """\
import { Namespace, SubjectSet, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}

class Group implements Namespace {
  related: {
    members: (User | SubjectSet<Group, "members">)[]
  }
}

class Folder implements Namespace {
  related: {
    parents: Folder[]
    viewers: (User | SubjectSet<Group, "members">)[]
  }

  permits = {
    view: (ctx: Context): boolean =>
      this.related.viewers.includes(ctx.subject) ||
      this.related.parents.traverse((parent) => parent.permits.view(ctx)),
  }
}

class Document implements Namespace {
  related: {
    owners: (User | SubjectSet<Group, "members">)[]
    viewers: (User | SubjectSet<Group, "members">)[]
    banned: User[]
    parents: Folder[]
  }

  permits = {
    edit: (ctx: Context): boolean => this.related.owners.includes(ctx.subject),
    view: (ctx: Context): boolean =>
      (this.related.viewers.includes(ctx.subject) ||
        this.permits.edit(ctx) ||
        this.related.parents.traverse((parent) => parent.permits.view(ctx))) &&
      !this.related.banned.includes(ctx.subject),
  }
}
"""
NAMESPACES = {"User", "Group", "Folder", "Document"}

# An OPL document with one error: line 5 names a namespace that is not declared (0-based columns
# 21 to 25, as Keto's parser counts them).
OPL_UNDECLARED = """\
class User implements Namespace {}

class Group implements Namespace {
  related: {
    members: (User | Team)[]
  }
}
"""
# An OPL document with a syntax error: the `]` after `User[` is missing, found `}` on line 6 column 2.
OPL_UNCLOSED = """\
class User implements Namespace {}

class Group implements Namespace {
  related: {
    members: User[
  }
}
"""

NAMESPACES_PATH = "/services/permission/config/namespaces"
TOKEN_HEADER = "X-Tessera-Consistency-Token"
DEFAULT_MAX_DEPTH = 5
MAX_BATCH = 10
PROPAGATION_TIMEOUT = 10.0  # a configuration change reaches the regions (about a second)


# --------------------------------------------------------------------------- relationships


def rel(text: str) -> ory_client.Relationship:
    """A Relationship from Keto's string form: `ns:obj#rel@user`, or `ns:obj#rel@ns:obj#rel` for a subject set
    (`ns:obj#rel@ns:obj` is a subject set with an empty relation)."""
    tuple_part, subject = text.split("@", 1)
    namespace, rest = tuple_part.split(":", 1)
    obj, relation = rest.rsplit("#", 1)
    if ":" in subject:
        set_namespace, set_rest = subject.split(":", 1)
        set_object, _, set_relation = set_rest.partition("#")
        return ory_client.Relationship(
            namespace=namespace,
            object=obj,
            relation=relation,
            subject_set=ory_client.SubjectSet(namespace=set_namespace, object=set_object, relation=set_relation),
        )
    return ory_client.Relationship(namespace=namespace, object=obj, relation=relation, subject_id=subject)


def text(r: ory_client.Relationship) -> str:
    """The string form of a Relationship (the inverse of `rel`)."""
    assert (r.subject_id is None) != (r.subject_set is None), f"exactly one subject: {r}"
    if r.subject_set is not None:
        s = r.subject_set
        subject = f"{s.namespace}:{s.object}" + (f"#{s.relation}" if s.relation else "")
    else:
        subject = r.subject_id
    return f"{r.namespace}:{r.object}#{r.relation}@{subject}"


def query(r: ory_client.Relationship) -> Dict[str, str]:
    """The query keywords the SDK's GET operations take for a relationship."""
    params = {"namespace": r.namespace, "object": r.object, "relation": r.relation}
    if r.subject_set is not None:
        params.update(
            subject_set_namespace=r.subject_set.namespace,
            subject_set_object=r.subject_set.object,
            subject_set_relation=r.subject_set.relation,
        )
    else:
        params["subject_id"] = r.subject_id
    return params


def inserts(*texts: str) -> List[ory_client.RelationshipPatch]:
    return [ory_client.RelationshipPatch(action="insert", relation_tuple=rel(t)) for t in texts]


def deletes(*texts: str) -> List[ory_client.RelationshipPatch]:
    return [ory_client.RelationshipPatch(action="delete", relation_tuple=rel(t)) for t in texts]


# --------------------------------------------------------------------------- model checks


def assert_model(model: Any, raw: Optional[bytes], cls: type) -> None:
    """`model` is a `cls` that holds exactly the JSON the server sent: no key the SDK does not know
    (nothing left in additional_properties, at any depth) and nothing lost or changed."""
    assert isinstance(model, cls), f"{type(model).__name__} is not {cls.__name__}"
    assert_no_unknown_keys(model)
    if raw is not None:
        assert model.to_dict() == json.loads(raw), f"{cls.__name__}: {raw!r} became {model.to_dict()}"


def assert_no_unknown_keys(model: Any) -> None:
    if isinstance(model, list):
        for item in model:
            assert_no_unknown_keys(item)
        return
    if not hasattr(model, "additional_properties"):
        return
    assert model.additional_properties == {}, f"{type(model).__name__} got unknown keys {model.additional_properties}"
    for name in type(model).model_fields:
        if name != "additional_properties":
            assert_no_unknown_keys(getattr(model, name))


def header(response: ory_client.ApiResponse, name: str) -> Optional[str]:
    return next((v for k, v in (response.headers or {}).items() if k.lower() == name.lower()), None)


# --------------------------------------------------------------------------- clients


@dataclass
class Keto:
    """One project's Keto API through one region, with one key."""

    url: str
    api_client: ory_client.ApiClient
    relationships: ory_client.RelationshipApi
    permissions: ory_client.PermissionApi

    # ---- relationships

    def create(self, text_form: str) -> Tuple[ory_client.Relationship, ory_client.ApiResponse]:
        """PUT /admin/relation-tuples; asserts 201 and the echoed relationship."""
        sent = rel(text_form)
        response = self.relationships.create_relationship_with_http_info(
            ory_client.CreateRelationshipBody.from_dict(sent.to_dict())
        )
        assert response.status_code == 201, response.status_code
        assert_model(response.data, response.raw_data, ory_client.Relationship)
        assert text(response.data) == text_form
        return response.data, response

    def patch(self, deltas: List[ory_client.RelationshipPatch]) -> ory_client.ApiResponse:
        """PATCH /admin/relation-tuples; asserts 204 with no body."""
        response = self.relationships.patch_relationships_with_http_info(deltas)
        assert response.status_code == 204, response.status_code
        assert response.data is None and not response.raw_data
        return response

    def insert(self, *texts: str) -> str:
        """Inserts relationships in one patch; returns the write's consistency token."""
        token = header(self.patch(inserts(*texts)), TOKEN_HEADER)
        assert token, f"PATCH answered without {TOKEN_HEADER}"
        return token

    def page(self, **filters) -> ory_client.Relationships:
        """One page of GET /relation-tuples, checked against the raw body."""
        response = self.relationships.get_relationships_with_http_info(**filters)
        assert response.status_code == 200
        assert_model(response.data, response.raw_data, ory_client.Relationships)
        assert isinstance(response.data.next_page_token, str), "next_page_token must be present"
        assert isinstance(response.data.relation_tuples, list), "relation_tuples must be present"
        return response.data

    def listed(self, page_size: Optional[int] = None, **filters) -> List[str]:
        """Every relationship matching `filters`, following next_page_token to the end."""
        seen: List[str] = []
        token: Optional[str] = None
        for _ in range(1000):
            page = self.page(page_size=page_size, page_token=token, **filters)
            seen.extend(text(r) for r in page.relation_tuples)
            if page.next_page_token == "":
                assert len(seen) == len(set(seen)), f"a relationship was listed twice: {seen}"
                return seen
            token = page.next_page_token
        raise AssertionError("next_page_token never became empty")

    # ---- checks

    def check(self, text_form: str, max_depth: Optional[int] = None, headers: Optional[dict] = None) -> bool:
        """Asks all four check endpoints; asserts their answers agree (and the mirror statuses); returns it."""
        r = rel(text_form)
        answers = {}

        plain = self.permissions.check_permission_with_http_info(
            **query(r), max_depth=max_depth, _headers=dict(headers or {})
        )
        assert plain.status_code == 200
        assert_model(plain.data, plain.raw_data, ory_client.CheckPermissionResult)
        answers["GET /relation-tuples/check/openapi"] = plain.data.allowed

        posted = self.permissions.post_check_permission_with_http_info(
            max_depth=max_depth,
            post_check_permission_body=ory_client.PostCheckPermissionBody.from_dict(r.to_dict()),
            _headers=dict(headers or {}),
        )
        assert posted.status_code == 200
        assert_model(posted.data, posted.raw_data, ory_client.CheckPermissionResult)
        answers["POST /relation-tuples/check/openapi"] = posted.data.allowed

        answers["GET /relation-tuples/check"] = mirrored(
            lambda: self.permissions.check_permission_or_error_with_http_info(
                **query(r), max_depth=max_depth, _headers=dict(headers or {})
            )
        )
        answers["POST /relation-tuples/check"] = mirrored(
            lambda: self.permissions.post_check_permission_or_error_with_http_info(
                max_depth=max_depth,
                post_check_permission_or_error_body=ory_client.PostCheckPermissionOrErrorBody.from_dict(r.to_dict()),
                _headers=dict(headers or {}),
            )
        )
        assert len(set(answers.values())) == 1, f"{text_form} (max-depth {max_depth}): {answers}"
        return answers["GET /relation-tuples/check/openapi"]

    def batch(
        self, texts: Iterable[ory_client.Relationship], max_depth: Optional[int] = None
    ) -> ory_client.BatchCheckPermissionResult:
        """POST /relation-tuples/batch/check, checked against the raw body."""
        response = self.permissions.batch_check_permission_with_http_info(
            max_depth=max_depth, batch_check_permission_body=ory_client.BatchCheckPermissionBody(tuples=list(texts))
        )
        assert response.status_code == 200
        assert_model(response.data, response.raw_data, ory_client.BatchCheckPermissionResult)
        return response.data

    def expand(
        self, namespace: str, obj: str, relation: str, max_depth: Optional[int] = None, headers: Optional[dict] = None
    ):
        """GET /relation-tuples/expand, checked against the raw body."""
        response = self.permissions.expand_permissions_with_http_info(
            namespace, obj, relation, max_depth=max_depth, _headers=dict(headers or {})
        )
        assert response.status_code == 200
        assert_model(response.data, response.raw_data, ory_client.ExpandedPermissionTree)
        return response.data

    def namespaces(self) -> List[str]:
        """GET /namespaces, checked against the raw body; the names in the order given."""
        response = self.relationships.list_relationship_namespaces_with_http_info()
        assert response.status_code == 200
        assert_model(response.data, response.raw_data, ory_client.RelationshipNamespaces)
        assert response.data.namespaces is not None, "namespaces must be present"
        return [n.name for n in response.data.namespaces]


def mirrored(call: Callable[[], ory_client.ApiResponse]) -> bool:
    """A mirror-status check: 200 {"allowed": true}, or 403 {"allowed": false} (ForbiddenException)."""
    try:
        response = call()
    except ForbiddenException as error:
        assert error.status == 403
        assert json.loads(error.body) == {"allowed": False}, error.body
        assert isinstance(error.data, ory_client.CheckPermissionResult), f"403 body did not parse: {error.body}"
        assert error.data.allowed is False
        parsed = ory_client.CheckPermissionResult.from_json(error.body)
        assert parsed.allowed is False and parsed.additional_properties == {}
        return False
    assert response.status_code == 200
    assert_model(response.data, response.raw_data, ory_client.CheckPermissionResult)
    assert response.data.allowed is True, "a denied mirror check must answer 403, not 200"
    return True


def keto_clients(url: str, key: Optional[str]) -> Keto:
    """SDK clients for a project's Keto API at `url` (429s are waited out, as everywhere in the suite)."""
    clients = make_clients(url, key)
    return Keto(
        url,
        clients.api_client,
        ory_client.RelationshipApi(clients.api_client),
        ory_client.PermissionApi(clients.api_client),
    )


@dataclass
class KetoProject:
    """A fresh project with its own API key and the OPL document, reachable through every region."""

    project: ory_client.Project
    key: str
    urls: Dict[str, str]  # region -> the project's URL through that region
    clients: Dict[Tuple[str, Optional[str]], Keto] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.project.id)

    @property
    def home(self) -> str:
        return self.project.home_region

    @property
    def other(self) -> str:
        return next(region for region in self.urls if region != self.home)

    def via(self, region: Optional[str] = None, key: Optional[str] = "project") -> Keto:
        """Clients through `region` (default: home) with the project's key (or `key`; None sends none)."""
        url, key = self.urls[region or self.home], self.key if key == "project" else key
        if (url, key) not in self.clients:
            self.clients[(url, key)] = keto_clients(url, key)
        return self.clients[(url, key)]

    @property
    def api(self) -> Keto:
        return self.via()


def project_urls(dev: dict, slug: str) -> Dict[str, str]:
    """The project's URL through each region: project_url_template's path under each region's address."""
    template = dev["project_url_template"]
    base = next(url for url in dev["regions"].values() if template.startswith(url.rstrip("/")))
    path = template[len(base.rstrip("/")) :].format(slug=slug)
    return {region: url.rstrip("/") + path for region, url in dev["regions"].items()}


def set_opl(workspace: ory_client.ProjectApi, project_id: str, opl: str) -> ory_client.SuccessfulProjectUpdate:
    """Replaces services.permission.config.namespaces with the OPL document (base64:// location)."""
    location = {"location": "base64://" + base64.b64encode(opl.encode()).decode()}
    update = workspace.patch_project(
        project_id, [ory_client.JsonPatch(op="replace", path=NAMESPACES_PATH, value=location)]
    )
    assert isinstance(update, ory_client.SuccessfulProjectUpdate)
    assert update.project.services.permission.config["namespaces"] == location
    return update


def wait_for_namespaces(keto: Keto, expected: set) -> None:
    """Polls GET /namespaces until it lists exactly `expected` (the project and its config reached the region)."""
    deadline = time.monotonic() + PROPAGATION_TIMEOUT
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = keto.namespaces()
            if set(last) == expected:
                return
        except ApiException as error:  # 401/404 until the project and its key reach the region
            last = f"HTTP {error.status}: {error.body}"
        time.sleep(0.1)
    raise AssertionError(
        f"{keto.url}: namespaces still {last!r} after {PROPAGATION_TIMEOUT}s, expected {sorted(expected)}"
    )


@pytest.fixture()
def new_keto_project(dev, seeded) -> Callable[..., KetoProject]:
    """Factory: a fresh project (workspace key from dev.json), a project API key and the OPL document,
    once every region serves its namespaces."""

    def create(home_region: str = "eu-central", opl: Optional[str] = OPL) -> KetoProject:
        project = seeded.project.create_project(
            ory_client.CreateProjectBody(
                name=unique("sdk-keto"), environment="dev", home_region=home_region, workspace_id=seeded.workspace_id
            )
        )
        assert isinstance(project, ory_client.Project) and project.home_region == home_region
        key = seeded.project.create_project_api_key(
            str(project.id), ory_client.CreateProjectApiKeyBody(name=unique("sdk-keto-pat"))
        )
        assert isinstance(key, ory_client.ProjectApiKey) and key.value
        if opl is not None:
            set_opl(seeded.project, str(project.id), opl)
        made = KetoProject(project, key.value, project_urls(dev, project.slug))
        for region in made.urls:
            wait_for_namespaces(made.via(region), NAMESPACES if opl is not None else set())
        return made

    return create


@pytest.fixture()
def keto(new_keto_project) -> KetoProject:
    """A fresh project homed in eu-central with the OPL document."""
    return new_keto_project()


# =============================================================================================
# relationships: create, list, patch, delete


def test_create_relationship_answers_201_with_location_and_token(keto):
    """create_relationship answers 201 with the relationship, a Location that lists it and a consistency token."""
    api = keto.api
    created, response = api.create("Document:readme#viewers@alice")
    assert created.subject_set is None
    assert "subject_set" not in json.loads(response.raw_data), "no subject_set key for a subject_id relationship"
    assert header(response, TOKEN_HEADER), f"no {TOKEN_HEADER} header"

    location = header(response, "Location")
    assert location, "201 without a Location header"
    target = urllib.parse.urlsplit(urllib.parse.urljoin(api.url + "/", location))
    assert target.path.endswith("/relation-tuples"), location
    assert dict(urllib.parse.parse_qsl(target.query)) == {
        "namespace": "Document",
        "object": "readme",
        "relation": "viewers",
        "subject_id": "alice",
    }

    # A subject set, including one with an empty relation (a Folder as a Document's parent).
    group_set, response = api.create("Document:readme#viewers@Group:eng#members")
    assert group_set.subject_id is None and group_set.subject_set.to_dict() == {
        "namespace": "Group",
        "object": "eng",
        "relation": "members",
    }
    assert "subject_id" not in json.loads(response.raw_data)
    parent, response = api.create("Document:readme#parents@Folder:docs")
    assert parent.subject_set.relation == "" and json.loads(response.raw_data)["subject_set"]["relation"] == ""
    # Empty ids are legal.
    api.create("Document:#viewers@")

    assert sorted(api.listed(namespace="Document")) == sorted(
        [
            "Document:readme#viewers@alice",
            "Document:readme#viewers@Group:eng#members",
            "Document:readme#parents@Folder:docs",
            "Document:#viewers@",
        ]
    )

    # The Location, resolved against the project's URL, is where the relationship is listed.
    answer = raw_request(
        urllib.parse.urlunsplit(target._replace(path="", query="")), "GET", f"{target.path}?{target.query}", keto.key
    )
    assert answer.status == 200, f"GET {location} (resolved against {api.url}): HTTP {answer.status} {answer.body!r}"
    assert [text(r) for r in ory_client.Relationships.from_json(answer.body.decode()).relation_tuples] == [
        "Document:readme#viewers@alice"
    ]


def test_create_relationship_refuses_bad_relationships(keto):
    """create_relationship: both subjects or none → 400, an unknown namespace → 404; nothing is written."""
    api = keto.api
    both = ory_client.CreateRelationshipBody(
        namespace="Document",
        object="readme",
        relation="viewers",
        subject_id="alice",
        subject_set=ory_client.SubjectSet(namespace="Group", object="eng", relation="members"),
    )
    expect_api_error(400, api.relationships.create_relationship, both)
    expect_api_error(
        400,
        api.relationships.create_relationship,
        ory_client.CreateRelationshipBody(namespace="Document", object="readme", relation="viewers"),
    )
    expect_api_error(
        404,
        api.relationships.create_relationship,
        ory_client.CreateRelationshipBody(namespace="Nope", object="readme", relation="viewers", subject_id="alice"),
    )
    expect_api_error(
        404,
        api.relationships.create_relationship,
        ory_client.CreateRelationshipBody(
            namespace="Document",
            object="readme",
            relation="viewers",
            subject_set=ory_client.SubjectSet(namespace="Nope", object="x", relation="y"),
        ),
    )
    assert api.listed() == []


def test_list_relationships_filters(keto):
    """get_relationships filters by namespace, object, relation, subject_id and subject_set."""
    api = keto.api
    everything = [
        "Document:a#viewers@alice",
        "Document:a#viewers@bob",
        "Document:a#owners@alice",
        "Document:a#viewers@Group:eng#members",
        "Document:b#viewers@alice",
        "Document:b#parents@Folder:root",
        "Folder:root#viewers@Group:eng#members",
        "Group:eng#members@carol",
    ]
    api.insert(*everything)

    def listed(**filters) -> List[str]:
        return sorted(api.listed(**filters))

    assert listed() == sorted(everything)
    assert listed(namespace="Document") == sorted(t for t in everything if t.startswith("Document:"))
    assert listed(namespace="Document", object="a") == sorted(t for t in everything if t.startswith("Document:a#"))
    assert listed(namespace="Document", object="a", relation="viewers") == sorted(
        ["Document:a#viewers@alice", "Document:a#viewers@bob", "Document:a#viewers@Group:eng#members"]
    )
    assert listed(namespace="Document", relation="viewers", subject_id="alice") == [
        "Document:a#viewers@alice",
        "Document:b#viewers@alice",
    ]
    assert listed(subject_id="alice") == sorted(
        ["Document:a#viewers@alice", "Document:a#owners@alice", "Document:b#viewers@alice"]
    )
    assert listed(subject_set_namespace="Group", subject_set_object="eng", subject_set_relation="members") == sorted(
        ["Document:a#viewers@Group:eng#members", "Folder:root#viewers@Group:eng#members"]
    )
    assert listed(
        namespace="Document", subject_set_namespace="Folder", subject_set_object="root", subject_set_relation=""
    ) == ["Document:b#parents@Folder:root"]
    assert listed(namespace="Group", object="ops") == []
    assert listed(namespace="User") == []

    expect_api_error(404, api.relationships.get_relationships, namespace="Nope")
    expect_api_error(
        400,
        api.relationships.get_relationships,
        namespace="Document",
        subject_id="alice",
        subject_set_namespace="Group",
        subject_set_object="eng",
        subject_set_relation="members",
    )
    expect_api_error(400, api.relationships.get_relationships, namespace="Document", subject_set_namespace="Group")


def test_list_relationships_pages_with_page_size_and_next_page_token(keto):
    """page_size cuts the list into pages linked by next_page_token, "" on the last one."""
    api = keto.api
    everything = [f"Document:paged#viewers@user-{i:02}" for i in range(11)]
    api.insert(*everything)
    api.insert("Document:other#viewers@user-99")

    sizes = []
    collected: List[str] = []
    token = None
    while True:
        page = api.page(namespace="Document", object="paged", page_size=4, page_token=token)
        sizes.append(len(page.relation_tuples))
        collected.extend(text(r) for r in page.relation_tuples)
        if page.next_page_token == "":
            break
        assert page.next_page_token != token
        token = page.next_page_token
    assert sizes == [4, 4, 3]
    assert sorted(collected) == sorted(everything) and len(set(collected)) == len(collected)

    # The same through the helper with other sizes, and one page holding everything.
    for size in (1, 5, 11, 1000):
        assert sorted(api.listed(page_size=size, namespace="Document", object="paged")) == sorted(everything)
    whole = api.page(namespace="Document", object="paged", page_size=100)
    assert len(whole.relation_tuples) == 11 and whole.next_page_token == ""

    expect_api_error(400, api.relationships.get_relationships, namespace="Document", page_token="not-a-page-token")


def test_patch_relationships_inserts_and_deletes(keto):
    """patch_relationships applies insert and delete deltas together and answers 204."""
    api = keto.api
    api.patch(inserts("Document:a#viewers@alice", "Document:a#viewers@bob", "Document:a#owners@carol"))
    assert sorted(api.listed(namespace="Document")) == sorted(
        ["Document:a#viewers@alice", "Document:a#viewers@bob", "Document:a#owners@carol"]
    )
    response = api.patch(
        deletes("Document:a#viewers@bob") + inserts("Document:a#viewers@Group:eng#members", "Group:eng#members@dave")
    )
    assert header(response, TOKEN_HEADER)
    assert sorted(api.listed()) == sorted(
        [
            "Document:a#viewers@alice",
            "Document:a#owners@carol",
            "Document:a#viewers@Group:eng#members",
            "Group:eng#members@dave",
        ]
    )
    assert api.check("Document:a#view@dave") is True
    assert api.check("Document:a#view@bob") is False
    # Deleting what is not there is no error.
    api.patch(deletes("Document:a#viewers@nobody"))
    api.patch([])
    assert len(api.listed()) == 4


def test_patch_relationships_is_all_or_nothing(keto):
    """One bad delta fails the whole patch (400, or 404 for an unknown namespace) and writes nothing."""
    api = keto.api
    api.insert("Document:a#viewers@alice")
    before = sorted(api.listed())

    both_subjects = ory_client.Relationship(
        namespace="Document",
        object="a",
        relation="viewers",
        subject_id="bob",
        subject_set=ory_client.SubjectSet(namespace="Group", object="eng", relation="members"),
    )
    bad = ory_client.RelationshipPatch(action="insert", relation_tuple=both_subjects)
    expect_api_error(
        400,
        api.relationships.patch_relationships,
        inserts("Document:a#viewers@carol") + deletes("Document:a#viewers@alice") + [bad],
    )
    no_subject = ory_client.RelationshipPatch(
        action="insert", relation_tuple=ory_client.Relationship(namespace="Document", object="a", relation="viewers")
    )
    expect_api_error(400, api.relationships.patch_relationships, inserts("Document:a#viewers@carol") + [no_subject])
    # A delta without its relationship, and an action that is neither insert nor delete (past the SDK's own checks).
    expect_api_error(
        400,
        api.relationships.patch_relationships,
        inserts("Document:a#viewers@carol") + [ory_client.RelationshipPatch(action="insert")],
    )
    unknown_action = ory_client.RelationshipPatch.model_construct(
        action="upsert", relation_tuple=rel("Document:a#viewers@dave"), additional_properties={}
    )
    expect_api_error(400, api.relationships.patch_relationships, inserts("Document:a#viewers@carol") + [unknown_action])
    expect_api_error(
        404, api.relationships.patch_relationships, inserts("Document:a#viewers@carol", "Nope:a#viewers@carol")
    )

    assert sorted(api.listed()) == before
    assert api.check("Document:a#viewers@carol") is False


def test_delete_relationships_by_query(keto):
    """delete_relationships removes every relationship matching the query (namespace required) and answers 204."""
    api = keto.api
    api.insert(
        "Document:a#viewers@alice",
        "Document:a#viewers@bob",
        "Document:a#owners@alice",
        "Document:a#viewers@Group:eng#members",
        "Document:b#viewers@alice",
        "Document:b#viewers@Group:eng#members",
        "Folder:root#viewers@alice",
    )

    def delete(**filters) -> None:
        response = api.relationships.delete_relationships_with_http_info(**filters)
        assert response.status_code == 204 and response.data is None and not response.raw_data
        assert header(response, TOKEN_HEADER)

    delete(namespace="Document", object="a", relation="viewers", subject_id="alice")
    assert sorted(api.listed(namespace="Document", object="a")) == sorted(
        ["Document:a#viewers@bob", "Document:a#owners@alice", "Document:a#viewers@Group:eng#members"]
    )
    delete(
        namespace="Document", subject_set_namespace="Group", subject_set_object="eng", subject_set_relation="members"
    )
    assert sorted(api.listed(namespace="Document")) == sorted(
        ["Document:a#viewers@bob", "Document:a#owners@alice", "Document:b#viewers@alice"]
    )
    delete(namespace="Document", subject_id="alice")
    assert api.listed(namespace="Document") == ["Document:a#viewers@bob"]
    delete(namespace="Document", object="nothing-here")
    delete(namespace="Document")
    assert api.listed(namespace="Document") == []
    assert api.listed(namespace="Folder") == ["Folder:root#viewers@alice"], "another namespace is untouched"

    expect_api_error(400, api.relationships.delete_relationships, object="root")
    expect_api_error(404, api.relationships.delete_relationships, namespace="Nope")
    expect_api_error(
        400,
        api.relationships.delete_relationships,
        namespace="Folder",
        subject_id="alice",
        subject_set_namespace="Group",
        subject_set_object="eng",
        subject_set_relation="members",
    )
    assert api.listed(namespace="Folder") == ["Folder:root#viewers@alice"]


# =============================================================================================
# checks


STORY = [
    "Document:doc#viewers@alice",
    "Document:doc#owners@carol",
    "Document:doc#viewers@bob",
    "Document:doc#banned@bob",
    "Document:doc#viewers@Group:eng#members",
    "Group:eng#members@erin",
    "Document:doc#parents@Folder:projects",
    "Folder:projects#viewers@dave",
    "Folder:projects#parents@Folder:root",
    "Folder:root#viewers@Group:all#members",
    "Group:all#members@frank",
]


def test_checks_allow_and_deny_through_all_four_endpoints(keto):
    """The four check endpoints agree; the mirror ones answer 200 when allowed and 403 {"allowed": false} when denied."""
    api = keto.api
    api.insert(*STORY)
    expected = {
        "Document:doc#view@alice": True,  # viewer
        "Document:doc#view@carol": True,  # owner, so edit, so view
        "Document:doc#edit@carol": True,
        "Document:doc#edit@alice": False,
        "Document:doc#view@bob": False,  # a viewer, but banned
        "Document:doc#viewers@bob": True,  # the relation itself is there
        "Document:doc#view@erin": True,  # through Group:eng#members
        "Document:doc#view@dave": True,  # through the parent folder's viewers
        "Document:doc#view@frank": True,  # through the folder's parent's viewers, a group
        "Document:doc#view@mallory": False,
        "Folder:projects#view@frank": True,
        "Folder:root#view@dave": False,  # permissions flow down, not up
        "Document:doc#viewers@Group:eng#members": True,  # a subject set as the subject
        "Document:doc#owners@Group:eng#members": False,
        "Document:other#view@alice": False,
    }
    got = {query_text: api.check(query_text) for query_text in expected}
    assert got == expected


def test_check_errors(keto):
    """Unknown namespace → allowed false; unknown relation of an OPL namespace and both subjects → 400."""
    api = keto.api
    api.insert("Document:doc#viewers@alice")

    assert api.check("Nope:doc#viewers@alice") is False
    assert api.check("Document:doc#viewers@Nope:x#y") is False

    p = api.permissions
    unknown_relation = rel("Document:doc#nope@alice")
    expect_api_error(400, p.check_permission, **query(unknown_relation))
    expect_api_error(400, p.check_permission_or_error, **query(unknown_relation))
    expect_api_error(
        400,
        p.post_check_permission,
        post_check_permission_body=ory_client.PostCheckPermissionBody.from_dict(unknown_relation.to_dict()),
    )
    expect_api_error(
        400,
        p.post_check_permission_or_error,
        post_check_permission_or_error_body=ory_client.PostCheckPermissionOrErrorBody.from_dict(
            unknown_relation.to_dict()
        ),
    )

    both = dict(
        namespace="Document",
        object="doc",
        relation="viewers",
        subject_id="alice",
        subject_set_namespace="Group",
        subject_set_object="eng",
        subject_set_relation="members",
    )
    expect_api_error(400, p.check_permission, **both)
    expect_api_error(400, p.check_permission_or_error, **both)
    both_body = dict(
        namespace="Document",
        object="doc",
        relation="viewers",
        subject_id="alice",
        subject_set={"namespace": "Group", "object": "eng", "relation": "members"},
    )
    expect_api_error(
        400, p.post_check_permission, post_check_permission_body=ory_client.PostCheckPermissionBody.from_dict(both_body)
    )
    expect_api_error(
        400,
        p.post_check_permission_or_error,
        post_check_permission_or_error_body=ory_client.PostCheckPermissionOrErrorBody.from_dict(both_body),
    )

    # An incomplete subject set, and no subject at all.
    expect_api_error(
        400, p.check_permission, namespace="Document", object="doc", relation="viewers", subject_set_namespace="Group"
    )
    expect_api_error(400, p.check_permission, namespace="Document", object="doc", relation="viewers")


def group_chain(length: int) -> List[str]:
    """Document:deep#viewers → Group:g1#members → … → Group:g<length>#members; user-<n> is a member of g<n>."""
    tuples = ["Document:deep#viewers@Group:g1#members"]
    tuples += [f"Group:g{n}#members@Group:g{n + 1}#members" for n in range(1, length)]
    tuples += [f"Group:g{n}#members@user-{n}" for n in range(1, length + 1)]
    return tuples


def test_max_depth_cuts_off_nested_groups(keto):
    """A check follows at most max-depth nested groups; max-depth is clamped to the project's limit (5)."""
    api = keto.api
    api.insert(*group_chain(7))
    # A budget of d reaches the members of the d-th nested group (Keto's engine).
    for n in range(1, DEFAULT_MAX_DEPTH + 1):
        assert api.check(f"Document:deep#viewers@user-{n}", max_depth=n) is True, f"user-{n} at depth {n}"
        if n > 1:
            assert api.check(f"Document:deep#viewers@user-{n}", max_depth=n - 1) is False, f"user-{n} at depth {n - 1}"
    # No max-depth, 0 or a negative one means the limit; anything above it is clamped to it.
    for asked in (None, 0, -1, DEFAULT_MAX_DEPTH + 1, 100):
        assert api.check(f"Document:deep#viewers@user-{DEFAULT_MAX_DEPTH}", max_depth=asked) is True, asked
        assert api.check(f"Document:deep#viewers@user-{DEFAULT_MAX_DEPTH + 1}", max_depth=asked) is False, asked
    # The same cut-off in a batch.
    batch = api.batch([rel("Document:deep#viewers@user-2"), rel("Document:deep#viewers@user-3")], max_depth=2)
    assert [(r.allowed, r.error) for r in batch.results] == [(True, None), (False, None)]
    batch = api.batch([rel(f"Document:deep#viewers@user-{n}") for n in (5, 6, 7)], max_depth=50)
    assert [r.allowed for r in batch.results] == [True, False, False]


def test_batch_check(keto):
    """batch_check_permission answers in order, with an error for an invalid tuple; more than 10 tuples → 400."""
    api = keto.api
    api.insert(*STORY)
    both_subjects = ory_client.Relationship(
        namespace="Document",
        object="doc",
        relation="viewers",
        subject_id="alice",
        subject_set=ory_client.SubjectSet(namespace="Group", object="eng", relation="members"),
    )
    result = api.batch(
        [
            rel("Document:doc#view@alice"),
            rel("Document:doc#view@bob"),
            both_subjects,
            rel("Document:doc#view@frank"),
            rel("Nope:doc#view@alice"),
            rel("Document:doc#nope@alice"),
        ]
    )
    assert len(result.results) == 6
    assert [r.allowed for r in result.results] == [True, False, False, True, False, False]
    assert [r.error for r in result.results][:2] == [None, None] and result.results[3].error is None
    for index in (2, 5):  # both subjects; a relation the OPL does not declare
        assert isinstance(result.results[index].error, str) and result.results[index].error, (
            index,
            result.results[index],
        )

    ten = [
        rel(f"Document:doc#view@{name}")
        for name in ("alice", "bob", "carol", "dave", "erin", "frank", "mallory", "x", "y", "z")
    ]
    assert [r.allowed for r in api.batch(ten).results] == [
        True,
        False,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    error = expect_api_error(
        400,
        api.permissions.batch_check_permission,
        batch_check_permission_body=ory_client.BatchCheckPermissionBody(tuples=ten + [rel("Document:doc#view@alice")]),
    )
    assert "10" in json.loads(error.body)["error"].get("reason", "") + json.loads(error.body)["error"]["message"]
    assert api.batch([]).results == []

    # Unlike a single check, a batch reports an unknown namespace as an error (Keto: "The requested
    # resource could not be found"), with allowed false.
    unknown = result.results[4]
    assert unknown.allowed is False
    assert isinstance(unknown.error, str) and unknown.error, f"no error for an unknown namespace in a batch: {unknown}"


# =============================================================================================
# expand


def leaves_and_sets(tree: ory_client.ExpandedPermissionTree) -> Dict[str, Any]:
    """A tree as {subject: children-as-the-same}, for comparisons."""
    out: Dict[str, Any] = {}
    for child in tree.children or []:
        out[subject_text(child)] = leaves_and_sets(child) if child.type != "leaf" else child.type
    return out


def subject_text(node: ory_client.ExpandedPermissionTree) -> str:
    t = node.tuple
    assert t is not None, "every node carries its subject in `tuple`"
    assert (t.subject_id is None) != (t.subject_set is None), t
    if t.subject_id is not None:
        return t.subject_id
    return f"{t.subject_set.namespace}:{t.subject_set.object}#{t.subject_set.relation}"


def test_expand_permissions(keto):
    """expand_permissions answers the subject tree: unions for subject sets, leaves for subjects; max-depth cuts it."""
    api = keto.api
    api.insert(
        "Document:doc#viewers@alice",
        "Document:doc#viewers@bob",
        "Document:doc#viewers@Group:eng#members",
        "Group:eng#members@carol",
        "Group:eng#members@Group:ops#members",
        "Group:ops#members@dave",
        "Document:doc#parents@Folder:projects",
    )
    tree = api.expand("Document", "doc", "viewers")
    assert tree.type == "union"
    assert tree.tuple.subject_set.to_dict() == {"namespace": "Document", "object": "doc", "relation": "viewers"}
    assert leaves_and_sets(tree) == {
        "alice": "leaf",
        "bob": "leaf",
        "Group:eng#members": {"carol": "leaf", "Group:ops#members": {"dave": "leaf"}},
    }
    eng = next(c for c in tree.children if c.tuple.subject_set is not None)
    assert eng.type == "union" and len(eng.children) == 2
    for leaf in (c for c in tree.children if c.tuple.subject_id is not None):
        assert leaf.type == "leaf" and not leaf.children

    # max-depth 2: the root's children, the groups not expanded; 1: the root alone.
    shallow = api.expand("Document", "doc", "viewers", max_depth=2)
    assert shallow.type == "union" and leaves_and_sets(shallow) == {
        "alice": "leaf",
        "bob": "leaf",
        "Group:eng#members": "leaf",
    }
    root_only = api.expand("Document", "doc", "viewers", max_depth=1)
    assert root_only.type == "leaf" and not root_only.children
    assert root_only.tuple.subject_set.to_dict() == {"namespace": "Document", "object": "doc", "relation": "viewers"}
    # Clamped: 100 is the limit, 5, which is enough here.
    assert leaves_and_sets(api.expand("Document", "doc", "viewers", max_depth=100)) == leaves_and_sets(tree)

    # A subject set with an empty relation is a leaf.
    parents = api.expand("Document", "doc", "parents")
    assert [(c.type, c.tuple.subject_set.to_dict()) for c in parents.children] == [
        ("leaf", {"namespace": "Folder", "object": "projects", "relation": ""})
    ]

    expect_api_error(404, api.permissions.expand_permissions, "Nope", "doc", "viewers")


# =============================================================================================
# namespaces and OPL


def test_list_namespaces_follows_the_configuration(new_keto_project, seeded):
    """list_relationship_namespaces lists the OPL's namespaces, [] without one, and follows a new document."""
    bare = new_keto_project(opl=None)
    assert bare.api.namespaces() == []
    expect_api_error(404, bare.api.relationships.get_relationships, namespace="Document")

    keto = new_keto_project()
    assert sorted(keto.api.namespaces()) == sorted(NAMESPACES)
    keto.api.insert("Document:doc#viewers@alice")

    smaller = OPL.split("class Folder")[0]  # User and Group only
    set_opl(seeded.project, keto.id, smaller)
    for region in keto.urls:
        wait_for_namespaces(keto.via(region), {"User", "Group"})
    expect_api_error(404, keto.api.relationships.get_relationships, namespace="Document")
    assert keto.api.check("Document:doc#viewers@alice") is False

    set_opl(seeded.project, keto.id, OPL)
    for region in keto.urls:
        wait_for_namespaces(keto.via(region), NAMESPACES)
    assert keto.api.check("Document:doc#viewers@alice") is True, "relationships outlive their namespace's absence"


def test_bad_opl_is_refused_by_the_control_plane(keto, seeded):
    """patch_project with an OPL document that does not compile answers 400 and changes nothing."""
    before = seeded.project.get_project(keto.id).services.permission.config["namespaces"]
    for bad in (OPL_UNDECLARED, OPL_UNCLOSED):
        location = {"location": "base64://" + base64.b64encode(bad.encode()).decode()}
        expect_api_error(
            400,
            seeded.project.patch_project,
            keto.id,
            [ory_client.JsonPatch(op="replace", path=NAMESPACES_PATH, value=location)],
        )
    assert seeded.project.get_project(keto.id).services.permission.config["namespaces"] == before
    time.sleep(0.5)
    assert sorted(keto.api.namespaces()) == sorted(NAMESPACES)


def test_check_opl_syntax(keto):
    """check_opl_syntax: a valid document has no errors; an invalid one has positioned errors (capital `Line`)."""
    api = keto.api
    for region in keto.urls:
        response = keto.via(region).relationships.check_opl_syntax_with_http_info(body=OPL)
        assert response.status_code == 200
        assert_model(response.data, response.raw_data, ory_client.CheckOplSyntaxResult)
        # Keto omits `errors` when there are none (omitempty); Tessera sends []. Both parse as "no errors".
        assert not response.data.errors, response.raw_data

    cases = [
        (OPL_UNDECLARED, "Team", (5, 21), (5, 25)),
        (OPL_UNCLOSED, "]", (6, 2), (6, 3)),
    ]
    for document, mentioned, start, end in cases:
        response = api.relationships.check_opl_syntax_with_http_info(body=document)
        assert response.status_code == 200
        assert_model(response.data, response.raw_data, ory_client.CheckOplSyntaxResult)
        raw_errors = json.loads(response.raw_data)["errors"]
        assert raw_errors and all(
            set(e["start"]) == {"Line", "column"} and set(e["end"]) == {"Line", "column"} for e in raw_errors
        ), raw_errors
        first = response.data.errors[0]
        assert isinstance(first, ory_client.ParseError)
        assert mentioned in first.message, first.message
        assert (first.start.line, first.start.column) == start, first
        assert (first.end.line, first.end.column) == end, first


def test_validate_opl_on_the_control_plane(keto, seeded, new_tenant):
    """validate_opl (control plane, workspace key) answers errors [] for a valid document and positioned errors otherwise."""
    valid = seeded.project.validate_opl_with_http_info(keto.id, body=OPL)
    assert valid.status_code == 200
    assert_model(valid.data, valid.raw_data, ory_client.OplValidateResult)
    assert valid.data.errors == []

    for document, mentioned, start, end in [
        (OPL_UNDECLARED, "Team", (5, 21), (5, 25)),
        (OPL_UNCLOSED, "]", (6, 2), (6, 3)),
    ]:
        response = seeded.project.validate_opl_with_http_info(keto.id, body=document)
        assert response.status_code == 200
        assert_model(response.data, response.raw_data, ory_client.OplValidateResult)
        first = response.data.errors[0]
        assert isinstance(first, ory_client.OplParseError) and mentioned in first.message
        assert (first.start.line, first.start.column) == start, first
        assert (first.end.line, first.end.column) == end, first
    # Validating saves nothing.
    assert sorted(keto.api.namespaces()) == sorted(NAMESPACES)

    expect_api_error(404, seeded.project.validate_opl, "00000000-0000-4000-8000-000000000000", body=OPL)
    expect_api_error(404, new_tenant().project.validate_opl, keto.id, body=OPL)


# =============================================================================================
# consistency tokens, regions, isolation


def check_with_token_parameter(keto: Keto, text_form: str, token: str) -> bool:
    """GET /relation-tuples/check/openapi with the `consistency_token` query parameter (the SDK has no
    keyword for it), built and parsed by the SDK's own machinery."""
    params = list(query(rel(text_form)).items())
    params = [(k.replace("subject_set_", "subject_set."), v) for k, v in params] + [("consistency_token", token)]
    method, url, headers, body, post_params = keto.api_client.param_serialize(
        method="GET",
        resource_path="/relation-tuples/check/openapi",
        query_params=params,
        header_params={"Accept": "application/json"},
        auth_settings=["oryAccessToken"],
    )
    response = keto.api_client.call_api(method, url, headers, body, post_params)
    response.read()
    parsed = keto.api_client.response_deserialize(response, {"200": "CheckPermissionResult", "400": "ErrorGeneric"})
    assert_model(parsed.data, parsed.raw_data, ory_client.CheckPermissionResult)
    return parsed.data.allowed


def test_consistency_token_gives_read_your_writes_in_another_region(keto, new_keto_project):
    """A check through the non-home region that sends a write's consistency token sees that write."""
    home, away = keto.api, keto.via(keto.other)
    assert keto.home == "eu-central" and keto.other == "us-east"
    for n in range(10):
        _, created = home.create(f"Document:doc-{n}#viewers@user-{n}")
        token = header(created, TOKEN_HEADER)
        assert token
        assert away.check(f"Document:doc-{n}#viewers@user-{n}", headers={TOKEN_HEADER: token}) is True, n
        assert away.check(f"Document:doc-{n}#view@user-{n}", headers={TOKEN_HEADER: token}) is True, n

    token = home.insert("Group:eng#members@alice", "Document:doc-0#viewers@Group:eng#members")
    assert away.check("Document:doc-0#view@alice", headers={TOKEN_HEADER: token}) is True
    tree = away.expand("Document", "doc-0", "viewers", headers={TOKEN_HEADER: token})
    assert leaves_and_sets(tree) == {"user-0": "leaf", "Group:eng#members": {"alice": "leaf"}}

    token = header(home.patch(deletes("Group:eng#members@alice")), TOKEN_HEADER)
    assert away.check("Document:doc-0#view@alice", headers={TOKEN_HEADER: token}) is False

    deleted = home.relationships.delete_relationships_with_http_info(namespace="Document", object="doc-1")
    assert away.check("Document:doc-1#viewers@user-1", headers={TOKEN_HEADER: header(deleted, TOKEN_HEADER)}) is False

    # The token as the consistency_token query parameter.
    token = home.insert("Document:by-query#viewers@zoe")
    assert check_with_token_parameter(away, "Document:by-query#viewers@zoe", token) is True

    # A token that is not one, or is another project's, is refused.
    expect_api_error(
        400,
        away.permissions.check_permission,
        **query(rel("Document:doc-0#viewers@user-0")),
        _headers={TOKEN_HEADER: "not-a-token"},
    )
    other = new_keto_project()
    foreign = other.api.insert("Document:x#viewers@y")
    expect_api_error(
        400,
        away.permissions.check_permission,
        **query(rel("Document:doc-0#viewers@user-0")),
        _headers={TOKEN_HEADER: foreign},
    )


def test_the_non_home_region_gives_the_same_answers(new_keto_project):
    """Through the non-home region (forwarded), writes land and every read answers as through the home region."""
    keto = new_keto_project(home_region="us-east")
    home, away = keto.api, keto.via(keto.other)
    assert keto.other == "eu-central"

    away.create("Document:extra#viewers@zoe")
    away.insert(*STORY)
    away.patch(deletes("Document:doc#viewers@alice"))
    token = header(
        away.relationships.delete_relationships_with_http_info(namespace="Folder", object="root", relation="viewers"),
        TOKEN_HEADER,
    )
    assert token

    queries = [
        "Document:doc#view@alice",
        "Document:doc#view@carol",
        "Document:doc#view@bob",
        "Document:doc#view@erin",
        "Document:doc#view@dave",
        "Document:doc#view@frank",
        "Folder:projects#view@dave",
        "Document:doc#edit@carol",
    ]
    answers = {}
    for name, keto_api in (("home", home), ("away", away)):
        answers[name] = {
            "list": sorted(keto_api.listed(page_size=3)),
            "checks": [keto_api.check(q, headers={TOKEN_HEADER: token}) for q in queries],
            "batch": keto_api.batch([rel(q) for q in queries]).to_dict(),
            "expand": keto_api.expand("Document", "doc", "viewers").to_dict(),
            "namespaces": keto_api.namespaces(),
            "opl": keto_api.relationships.check_opl_syntax(body=OPL_UNCLOSED).to_dict(),
        }
    assert answers["home"] == answers["away"]
    assert answers["home"]["checks"] == [False, True, False, True, True, False, True, True]
    assert "Folder:root#viewers@Group:all#members" not in answers["home"]["list"]
    assert "Document:doc#viewers@alice" not in answers["home"]["list"]


def test_another_projects_key_is_401(new_keto_project, dev):
    """Another project's key on every permission endpoint, a workspace key and no key are refused with 401."""
    mine, theirs = new_keto_project(), new_keto_project(home_region="us-east")
    mine.api.insert("Document:doc#viewers@alice")
    theirs.api.insert("Document:doc#viewers@alice")
    r = rel("Document:doc#viewers@alice")

    def calls(api: Keto) -> List[Tuple[Callable, tuple, dict]]:
        return [
            (api.relationships.get_relationships, (), {"namespace": "Document"}),
            (api.relationships.create_relationship, (ory_client.CreateRelationshipBody.from_dict(r.to_dict()),), {}),
            (api.relationships.patch_relationships, (inserts("Document:doc#viewers@mallory"),), {}),
            (api.relationships.delete_relationships, (), {"namespace": "Document"}),
            (api.relationships.list_relationship_namespaces, (), {}),
            (api.relationships.check_opl_syntax, (), {"body": OPL}),
            (api.permissions.check_permission, (), query(r)),
            (api.permissions.check_permission_or_error, (), query(r)),
            (
                api.permissions.post_check_permission,
                (),
                {"post_check_permission_body": ory_client.PostCheckPermissionBody.from_dict(r.to_dict())},
            ),
            (
                api.permissions.post_check_permission_or_error,
                (),
                {
                    "post_check_permission_or_error_body": ory_client.PostCheckPermissionOrErrorBody.from_dict(
                        r.to_dict()
                    )
                },
            ),
            (
                api.permissions.batch_check_permission,
                (),
                {"batch_check_permission_body": ory_client.BatchCheckPermissionBody(tuples=[r])},
            ),
            (api.permissions.expand_permissions, ("Document", "doc", "viewers"), {}),
        ]

    for region in mine.urls:
        for call, args, kwargs in calls(mine.via(region, key=theirs.key)):
            expect_api_error(401, call, *args, **kwargs)
    # A workspace key, the seeded project's key and no key at all: reads and writes.
    for key in (dev["workspace_api_key"], dev["project"]["api_key"], None):
        for call, args, kwargs in calls(mine.via(key=key))[:4]:
            expect_api_error(401, call, *args, **kwargs)
    assert mine.api.listed() == ["Document:doc#viewers@alice"], "nothing was written or deleted"
    assert theirs.api.listed() == ["Document:doc#viewers@alice"]


def test_projects_are_independent(new_keto_project):
    """The same relationships in two projects are separate: writes, deletes and checks in one leave the other alone."""
    first, second = new_keto_project(), new_keto_project()
    first.api.insert("Document:doc#viewers@alice", "Document:doc#owners@carol")
    assert second.api.listed() == []
    assert second.api.check("Document:doc#view@alice") is False
    assert second.api.expand("Document", "doc", "viewers").type == "leaf"

    second.api.insert("Document:doc#viewers@alice")
    first.api.relationships.delete_relationships(namespace="Document", object="doc", relation="viewers")
    assert first.api.check("Document:doc#view@alice") is False
    assert first.api.listed() == ["Document:doc#owners@carol"]
    assert second.api.check("Document:doc#view@alice") is True
    assert second.api.listed() == ["Document:doc#viewers@alice"]
    for region in second.urls:
        assert second.via(region).check("Document:doc#view@carol") is False
