"""Shared fixtures.

``report`` records a figure a test measured (e.g. the fitted scaling exponents); the
terminal summary prints them all, also when the tests ran in pytest-xdist workers.

``Simulator`` is nengo's pytest-plugin fixture (``pytest_nengo``): the simulator class
under test, ``nengo.Simulator`` unless chosen otherwise. Network tests take it instead
of naming ``nengo.Simulator``, so that::

    pytest tests/test_networks.py --simulator nengo_dl.Simulator

reruns them on NengoDL (or ``nengo_loihi.Simulator``, or any class or function called
like ``nengo.Simulator``). nengo 3.2's plugin reads the choice only from the
``nengo_simulator`` ini value (``-o nengo_simulator=nengo_dl.Simulator`` works too);
``--simulator`` is the command-line spelling. With another simulator chosen, the tests
that do not take the fixture are deselected, as the plugin does for nengo's own tests.
"""

import pytest
import pytest_nengo


def pytest_addoption(parser):
    parser.addoption(
        "--simulator",
        default=None,
        help="the simulator class the network tests run on, e.g. nengo_dl.Simulator "
        "(default: the nengo_simulator ini value, nengo.Simulator)",
    )


def simulator_name(config):
    """The fully qualified name of the simulator under test."""
    return config.getoption("simulator") or config.getini("nengo_simulator")


def pytest_collection_modifyitems(config, items):
    if simulator_name(config) == "nengo.Simulator":
        return
    kept = [item for item in items if "Simulator" in item.fixturenames]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def Simulator(request):
    """The simulator class under test (overrides ``pytest_nengo``'s to add ``--simulator``)."""
    if not request.config.getoption("simulator") and request.config.getini("nengo_simloader"):
        return pytest_nengo.load_class(request.config.getini("nengo_simloader"))(request)
    return pytest_nengo.load_class(simulator_name(request.config))


@pytest.fixture
def report(request):
    def add(text):
        request.node.user_properties.append(("measured", text))

    return add


def pytest_terminal_summary(terminalreporter):
    lines = [
        f"{rep.nodeid}: {value}"
        for key in ("passed", "failed")
        for rep in terminalreporter.stats.get(key, [])
        if rep.when == "call"
        for name, value in rep.user_properties
        if name == "measured"
    ]
    if lines:
        terminalreporter.section("measured figures")
        for line in lines:
            terminalreporter.write_line(line)
