"""The plugin graph: dependencies pulled in, load order, and each failure mode refusing the start with
one message naming the plugin and the cause (through the app factory and through the command)."""
from __future__ import annotations

import itertools
import textwrap

import pytest
from flask_admin import expose

import coulisses
from coulisses import Permission, PluginError
from coulisses import plugins as cplugins
from tests.conftest import login
from tests.platform.conftest import make_plugin


def start_refused(make_app, plugins) -> str:
    """Start the app with ``plugins``; return the one-line message of the refusal."""
    with pytest.raises(PluginError) as excinfo:
        make_app(plugins=plugins, schema=False)
    message = str(excinfo.value)
    assert "\n" not in message, f"the message should be one line: {message!r}"
    return message


# --------------------------------------------------------------------------- dependencies & order


def test_enabling_a_plugin_pulls_in_its_dependencies(make_app, register_plugin, make_operator):
    register_plugin(make_plugin("tp_base"))
    register_plugin(make_plugin("tp_middle", depends=["tp_base"]))
    register_plugin(make_plugin("tp_top", depends=["tp_middle>=1.0"]))
    register_plugin(make_plugin("tp_other"))
    app = make_app(plugins=["tp_top"])
    assert app.extensions["coulisses"].order == ["tp_base", "tp_middle", "tp_top"]
    # what an administrator sees on the plugins page
    make_operator("boss", roles=["administrator"])
    client = app.test_client()
    login(client, "boss")
    html = client.get("/admin/core_plugins/").get_data(as_text=True)
    rows = {name: html.split(f"<code>{name}</code>", 1)[1].split("</tr>", 1)[0]
            for name in ("tp_base", "tp_middle", "tp_top", "tp_other")}
    for name in ("tp_base", "tp_middle", "tp_top"):
        assert "badge-success" in rows[name], name
    assert "badge-success" not in rows["tp_other"]


def test_load_order_is_by_depth_then_name_whatever_the_request_order(register_plugin):
    calls = []
    for name, deps in [("zeta", []), ("base", []), ("alpha", ["base"]), ("beta", ["base"]),
                       ("mid", ["alpha", "zeta"]), ("aardvark", ["mid"])]:
        register_plugin(make_plugin(f"tp_{name}", depends=[f"tp_{d}" for d in deps],
                                    hooks={"coulisses_startup": (lambda n: lambda app: calls.append(n))(name)}))
    infos = cplugins.discover()
    names = ["tp_zeta", "tp_base", "tp_alpha", "tp_beta", "tp_mid", "tp_aardvark"]
    expected = ["tp_base", "tp_zeta", "tp_alpha", "tp_beta", "tp_mid", "tp_aardvark"]
    for permutation in itertools.islice(itertools.permutations(names), 0, 720, 37):
        assert cplugins.resolve(infos, permutation) == expected
    # hooks are called in that order too
    pm = cplugins.build_manager(infos, expected)
    cplugins.call_each(pm, "coulisses_startup", app=None)
    assert calls == ["base", "zeta", "alpha", "beta", "mid", "aardvark"]


def test_optional_dependency_orders_but_does_not_pull_in(register_plugin):
    register_plugin(make_plugin("tp_a"))
    register_plugin(make_plugin("tp_b", optional_depends=["tp_zz_opt"]))
    register_plugin(make_plugin("tp_zz_opt"))
    infos = cplugins.discover()
    assert cplugins.resolve(infos, ["tp_b"]) == ["tp_b"]
    assert cplugins.resolve(infos, ["tp_b", "tp_zz_opt", "tp_a"]) == ["tp_a", "tp_zz_opt", "tp_b"]


# --------------------------------------------------------------------------- failure modes


def test_missing_dependency(make_app, register_plugin):
    register_plugin(make_plugin("tp_needy", depends=["tp_nowhere"]))
    assert start_refused(make_app, ["tp_needy"]) == "plugin « tp_needy » : dépend de « tp_nowhere », qui n'est pas installé"


def test_enabling_a_plugin_that_is_not_installed(make_app):
    message = start_refused(make_app, ["tp_ghost"])
    assert message.startswith("plugin « tp_ghost » : n'est pas installé")


def test_dependency_cycle(make_app, register_plugin):
    register_plugin(make_plugin("tp_x", depends=["tp_y"]))
    register_plugin(make_plugin("tp_y", depends=["tp_z"]))
    register_plugin(make_plugin("tp_z", depends=["tp_x"]))
    message = start_refused(make_app, ["tp_y"])
    assert message == "plugin « tp_x » : cycle de dépendances : tp_x -> tp_y -> tp_z -> tp_x"


def test_incompatible_dependency_version(make_app, register_plugin):
    register_plugin(make_plugin("tp_x", version="1.0"))
    register_plugin(make_plugin("tp_user", depends=["tp_x>=2"]))
    assert start_refused(make_app, ["tp_user"]) == "plugin « tp_user » : demande tp_x>=2, mais tp_x 1.0 est installé"


def test_incompatible_optional_dependency_version_when_both_are_enabled(make_app, register_plugin):
    register_plugin(make_plugin("tp_x", version="1.0"))
    register_plugin(make_plugin("tp_user", optional_depends=["tp_x>=2"]))
    make_app(plugins=["tp_user"], schema=False)  # alone: fine
    assert start_refused(make_app, ["tp_user", "tp_x"]) == "plugin « tp_user » : demande tp_x>=2, mais tp_x 1.0 est installé"


def test_host_version_mismatch(make_app, register_plugin):
    register_plugin(make_plugin("tp_future", requires_host=">=99"))
    assert start_refused(make_app, ["tp_future"]) == (
        f"plugin « tp_future » : demande l'hôte >=99, cet hôte est en {coulisses.__version__}")


def test_bad_dependency_in_a_manifest(make_app, register_plugin):
    register_plugin(make_plugin("tp_sloppy", depends=["tp_x >= one"]))
    assert start_refused(make_app, ["tp_sloppy"]) == (
        "plugin « tp_sloppy » : contrainte de version incorrecte dans la dépendance 'tp_x >= one'")


@pytest.fixture
def broken_distribution(tmp_path, monkeypatch):
    """An installed distribution whose plugin module raises ImportError."""
    site = tmp_path / "site"
    info = site / "fake_coulisses_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-coulisses-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[coulisses.plugins]\ntp_broken = tp_broken_mod\n")
    (site / "tp_broken_mod.py").write_text(textwrap.dedent("""\
        import coulisses
        raise ImportError("No module named 'reportlab_missing'")
    """))
    monkeypatch.syspath_prepend(str(site))
    yield site


def test_plugin_that_fails_to_import(make_app, broken_distribution):
    assert cplugins.discover()["tp_broken"].distribution == "fake-coulisses-plugin"
    message = start_refused(make_app, ["tp_broken"])
    assert message == ("plugin « tp_broken » : l'import a échoué (ImportError: No module named 'reportlab_missing') "
                       f"at {broken_distribution / 'tp_broken_mod.py'}:2")  # where it failed


def test_a_broken_plugin_that_is_not_enabled_does_not_stop_the_host(make_app, broken_distribution):
    app = make_app(plugins=[], schema=False)
    rows = {r["name"]: r for r in app.extensions["coulisses"].plugin_rows()}
    assert rows["tp_broken"]["state"] == "error"
    assert "ImportError" in rows["tp_broken"]["error"]


def test_a_plugin_depending_on_a_broken_plugin_names_the_broken_one(make_app, register_plugin, broken_distribution):
    register_plugin(make_plugin("tp_user", depends=["tp_broken"]))
    message = start_refused(make_app, ["tp_user"])
    assert message.startswith("plugin « tp_broken » : l'import a échoué (ImportError")


def test_misspelled_hook_implementation(make_app, register_plugin):
    register_plugin(make_plugin("tp_typo", hooks={"coulisses_admin_veiws": lambda admin: []}))
    assert start_refused(make_app, ["tp_typo"]) == (
        "plugin « tp_typo » : l'implémentation de hook « coulisses_admin_veiws » ne correspond à aucune spécification de "
        "hook (vouliez-vous dire « coulisses_admin_views » ?)")


def test_misspelled_optional_hook_implementation_is_tolerated(make_app, register_plugin):
    # optionalhook=True: the other plugin offering the hook is simply not enabled
    class Plugin:
        MANIFEST = coulisses.Manifest(name="tp_opt", version="1.0", label="Opt")

        @coulisses.hookimpl(optionalhook=True)
        def sales_order_paid(self, session, order):
            pass

    register_plugin(Plugin())
    app = make_app(plugins=["tp_opt"], schema=False)
    assert app.extensions["coulisses"].order == ["tp_opt"]


def test_hook_implementation_with_wrong_argument_names(make_app, register_plugin):
    register_plugin(make_plugin("tp_args", hooks={"coulisses_admin_views": lambda admni: []}))
    message = start_refused(make_app, ["tp_args"])
    assert message.startswith("plugin « tp_args » : l'implémentation de hook « coulisses_admin_views »")
    assert "admni" in message
    assert "coulisses_admin_views(admin)" in message


def test_two_plugins_declaring_the_same_permission(make_app, register_plugin):
    register_plugin(make_plugin("tp_first", hooks={"coulisses_permissions": lambda: [
        Permission("shared.view", "See")]}))
    register_plugin(make_plugin("tp_second", hooks={"coulisses_permissions": lambda: [
        Permission("shared.view", "See too")]}))
    assert start_refused(make_app, ["tp_second", "tp_first"]) == (
        "plugin « tp_second » : la permission « shared.view » est déjà déclarée par « tp_first »")


def test_permission_for_an_unknown_default_role(make_app, register_plugin):
    register_plugin(make_plugin("tp_roles", hooks={"coulisses_permissions": lambda: [
        Permission("tp_roles.view", "See", ("cashier",))]}))
    assert start_refused(make_app, ["tp_roles"]) == (
        "plugin « tp_roles » : la permission « tp_roles.view » nomme des rôles par défaut inconnus : cashier")


def _admin_view(endpoint):
    from coulisses.web.admin import CoulissesBaseView

    class Page(CoulissesBaseView):
        @expose("/")
        def index(self):
            return "page"

    return Page(name="Page", endpoint=endpoint, permission="tp_views.view")


def test_admin_view_endpoint_not_prefixed_with_the_plugin_name(make_app, register_plugin):
    register_plugin(make_plugin("tp_views", hooks={"coulisses_admin_views": lambda admin: [_admin_view("page")]}))
    assert start_refused(make_app, ["tp_views"]) == (
        "plugin « tp_views » : le point d'entrée de la vue d'administration « page » doit commencer par « tp_views_ »")


def test_admin_view_endpoint_prefixed_is_served_in_the_plugin_menu(make_app, register_plugin, make_operator):
    register_plugin(make_plugin("tp_views", hooks={"coulisses_admin_views": lambda admin: [_admin_view("tp_views_page")]}))
    app = make_app(plugins=["tp_views"])
    make_operator("boss", roles=["administrator"])
    client = app.test_client()
    login(client, "boss")
    assert client.get("/admin/tp_views_page/").get_data(as_text=True) == "page"
    home = client.get("/admin/").get_data(as_text=True)
    assert "Tp_Views" in home  # the menu is the plugin's label


def test_startup_hook_failure_names_the_plugin(make_app, register_plugin):
    def startup(app):
        raise RuntimeError("the printer is not configured")

    register_plugin(make_plugin("tp_start", hooks={"coulisses_startup": startup}))
    assert start_refused(make_app, ["tp_start"]) == (
        "plugin « tp_start » : coulisses_startup a échoué : RuntimeError: the printer is not configured")


# --------------------------------------------------------------------------- through the command


def test_the_command_shows_the_message_and_fails(cli, register_plugin):
    register_plugin(make_plugin("tp_needy", depends=["tp_nowhere"]))
    assert cli("db", "upgrade").exit_code == 0
    result = cli("plugins", "enable", "tp_needy")
    assert result.exit_code == 1
    assert result.output.strip() == "Erreur : plugin « tp_needy » : dépend de « tp_nowhere », qui n'est pas installé"


def test_the_command_refuses_to_start_the_app_with_a_broken_enabled_plugin(cli, register_plugin):
    register_plugin(make_plugin("tp_typo", hooks={"coulisses_admin_veiws": lambda admin: []}))
    result = cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_typo"})
    assert result.exit_code == 1
    assert "plugin « tp_typo » : l'implémentation de hook « coulisses_admin_veiws » ne correspond à aucune spécification de hook" in result.output
    assert "Traceback" not in result.output
    result = cli("routes", env={"COULISSES_PLUGINS": "tp_typo"})
    assert result.exit_code == 1
    assert "vouliez-vous dire « coulisses_admin_views »" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("hook", ["coulisses_admin_views", "coulisses_blueprints", "coulisses_permissions",
                                  "coulisses_config_defaults", "coulisses_api_routes"])
def test_a_hook_failing_at_startup_names_the_plugin(make_app, register_plugin, hook):
    def failing(**kwargs):
        import plugins.tp_nowhere.api  # noqa: F401 - the classic: a module not written yet

    args = {"coulisses_admin_views": ["admin"], "coulisses_api_routes": ["api"]}.get(hook, [])
    func = eval(f"lambda {', '.join(args)}: failing()", {"failing": failing})
    register_plugin(make_plugin("tp_half", hooks={hook: func}))
    assert start_refused(make_app, ["tp_half"]) == (
        f"plugin « tp_half » : {hook} a échoué : ModuleNotFoundError: No module named 'plugins.tp_nowhere'")
