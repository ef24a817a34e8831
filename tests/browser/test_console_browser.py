"""The console in a real headless Chromium (Playwright for Python driving Debian's ``chromium``).

One live server (uvicorn on a free port, ``tests.api.conftest.LiveServer``) on a SQLite database with
the API tests' small centre and one user per role serves every test here.  Each page visited is
checked with axe-core (vendored test-only in ``tests/browser/vendor``; no serious or critical
violations) and for Content-Security-Policy violations (the pages must work with no inline script
or style).  With ``CAREPATH_SCREENSHOTS=<folder>`` the board, the map, the worker's page (and its
check-in), the hand-edit form showing the checker's refusal (also after a drag on the board), a
senior's budgets, a request refused by an intake rule and the import page's bad rows are saved
there as PNGs (the README shows ``docs/screenshots``).

Playwright cannot download its own browser here: the tests launch ``/usr/bin/chromium`` (``.ci/run``
installs the Debian package when it is missing) and are skipped, saying so, without it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from api.app import create_app
from dispatch.catalog import entitlements
from dispatch.planning import publish
from dispatch.storage.migrate import upgrade
from dispatch.planning.rosters import plan_day
from dispatch.providers.travel import provider_from_settings
from optimizer.params import load_params
from dispatch.clock import fixed_clock
from tests.api.conftest import DAY, PASSWORDS, TEST_NOW, LiveServer, _prepared_database

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-core-4.10.2" / "axe.min.js"
SCREENSHOTS = os.environ.get("CAREPATH_SCREENSHOTS")
DAY_PATH = f"/console/day/{DAY.isoformat()}"

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app over real HTTP on a fresh SQLite database with the small centre, its day planned and
    published once (so the worker has visits whatever the test order)."""
    import api.console.pages_worker
    import dispatch.access.passwords
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{(tmp / 'console.db').as_posix()}"
    upgrade(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dispatch.access.passwords, "_hasher",
                      PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)))
        patch.setattr(api.console.pages_worker, "today_in", lambda tz: DAY)  # the small centre's day is "today"
        settings, engine = _prepared_database(url, tmp)
        with Session(engine) as s:  # Krystyna Mazur (S2): 5 h of home care a week, for the senior page
            entitlements.create_decision(s, "test", {
                "senior_id": "S2", "service": "home_care", "reference": "MOPR-OP.8221.7.2026", "unit": "hours",
                "amount": 5, "period": "week", "valid_from": dt.date(2026, 11, 1), "valid_to": dt.date(2026, 12, 31)})
            s.commit()
        planned = plan_day(engine, DAY, provider_from_settings(settings), load_params(None, time_limit_s=1))
        with Session(engine) as s:
            view = publish.roster_detail(s, planned.roster, settings.timezone)
            publish.publish_latest(s, DAY, view.etag, "dispatcher", None,
                                   publish.mandatory_request_ids(view.unassigned))
            s.commit()
        try:
            with LiveServer(create_app(settings, engine, clock=fixed_clock(TEST_NOW))) as live:  # as the API tests
                yield live
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


class Checked:
    """A page that records CSP violations and runs axe-core on demand."""

    def __init__(self, browser, base_url: str, width: int = 1280, height: int = 900) -> None:
        self.context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height},
                                           locale="pl-PL", timezone_id="Europe/Warsaw")
        self.context.add_init_script(path=str(AXE))  # via the DevTools protocol: not subject to the page's CSP
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.csp_errors: list[str] = []
        self.page.on("console", lambda msg: self.csp_errors.append(msg.text)
                     if "Content Security Policy" in msg.text else None)

    def login(self, user: str) -> None:
        self.page.goto("/console/login")
        self.page.get_by_label("Nazwa użytkownika").fill(user)
        self.page.get_by_label("Hasło").fill(PASSWORDS[user])
        self.page.get_by_role("button", name="Zaloguj się").click()
        self.page.wait_for_load_state()

    def accessible(self) -> None:
        """No serious or critical axe-core violation (WCAG 2.1 A and AA rules) and no CSP violation."""
        result = self.page.evaluate(
            "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        assert bad == [], f"{self.page.url}: {bad}"
        assert self.csp_errors == [], self.csp_errors

    def screenshot(self, name: str, selector: str | None = None, **options: object) -> None:
        """The page (or the element at ``selector``) as ``name`` in ``CAREPATH_SCREENSHOTS``, if set."""
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            target = self.page.locator(selector) if selector else self.page
            target.screenshot(path=str(Path(SCREENSHOTS) / name), **options)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, server) -> Iterator[Checked]:
    checked = Checked(browser, server.base_url)
    yield checked
    checked.close()


@pytest.fixture
def phone(browser, server) -> Iterator[Checked]:
    checked = Checked(browser, server.base_url, width=360, height=740)
    yield checked
    checked.close()


def test_dispatcher_plans_sees_the_board_and_publishes(tab: Checked) -> None:
    page = tab.page
    tab.login("dispatcher")
    page.goto(DAY_PATH)
    tab.accessible()
    page.get_by_label("Czas szukania (sekundy)").fill("2")
    page.get_by_role("button", name="Zaplanuj ponownie (nowy szkic)").click()
    page.wait_for_selector("[data-job-status]")  # the job panel, polled by htmx until the draft is stored
    page.wait_for_selector("text=Wersja 2 · szkic", timeout=60_000)
    rows = page.locator("tr[data-worker]")
    assert rows.count() >= 2
    assert page.locator("g.block.visit").count() >= 4 and page.locator("g.block.travel").count() >= 1
    assert page.locator(".legend").inner_text().count("=") >= 2  # services named, not colours alone
    tab.accessible()
    tab.screenshot("board.png", full_page=True)
    for box in page.locator("input[name=ack]").all():
        box.check()
    page.get_by_role("button", name="Opublikuj wersję 2").click()
    page.wait_for_selector("text=Opublikowano wersję 2")
    tab.accessible()
    page.get_by_role("link", name="Trasy na mapie").click()
    page.wait_for_selector("#map path.leaflet-interactive")  # the routes drawn without any tile server
    assert page.locator("#map path.leaflet-interactive").count() >= 2
    tab.accessible()
    tab.screenshot("map.png")


def test_dispatcher_moves_a_visit_and_sees_the_checker_refuse_an_impossible_move(tab: Checked) -> None:
    """Issue 18: the checker's verdict before saving names the broken rule; a possible move saves a new draft."""
    page = tab.page
    tab.login("dispatcher")
    page.goto(DAY_PATH)
    version = int(re.search(r"Wersja (\d+)", page.locator("h2#version-title").inner_text()).group(1))
    page.get_by_label("Wizyta", exact=True).select_option("R1")  # R1 may start 08:00-09:00
    page.get_by_label("Rozpoczęcie (GG:MM)").fill("12:00")
    page.get_by_role("button", name="Sprawdź", exact=True).click()
    verdict = page.locator("#edit-verdict[role=alert]")
    verdict.wait_for()
    assert "Kontroler odrzuca tę zmianę" in verdict.inner_text()
    assert page.locator("#edit-verdict li[data-rule=time_window]").count() == 1
    assert "Reguła time_window (180 min)" in verdict.inner_text()
    assert page.get_by_label("Rozpoczęcie (GG:MM)").get_attribute("aria-invalid") == "true"
    assert f"Wersja {version} " in page.locator("h2#version-title").inner_text()  # nothing saved
    tab.accessible()
    tab.screenshot("edit-refused.png", "#edit")
    page.get_by_label("Wizyta", exact=True).select_option("R3")  # R3 may start 11:00-13:00
    page.get_by_label("Rozpoczęcie (GG:MM)").fill("12:00")
    page.get_by_role("button", name="Zapisz jako nowy szkic").click()
    page.wait_for_selector(f"text=Zapisano jako szkic, wersja {version + 1}")
    assert f"Wersja {version + 1} · szkic" in page.locator("h2#version-title").inner_text()
    tab.accessible()


def test_coordinator_sees_the_rule_violation_next_to_the_field(tab: Checked) -> None:
    page = tab.page
    tab.login("coordinator")
    assert page.url.endswith("/console/seniors")
    tab.accessible()
    page.get_by_role("link", name="Nowe zlecenie Krystyna Mazur").click()
    tab.accessible()
    page.get_by_label("Usługa").select_option("home_care")
    page.get_by_label("Data (pierwszy dzień)").fill(DAY.isoformat())
    page.get_by_label("Najwcześniejsze rozpoczęcie").fill("11:00")
    page.get_by_label("Najpóźniejsze rozpoczęcie").fill("10:00")
    page.get_by_role("button", name="Wprowadź zlecenie").click()
    error = page.locator("#window_end-error")
    error.wait_for()
    assert "before window_start" in error.inner_text()
    field = page.get_by_label("Najpóźniejsze rozpoczęcie")
    assert field.get_attribute("aria-invalid") == "true"
    assert "window_end-error" in (field.get_attribute("aria-describedby") or "")
    tab.accessible()


def test_worker_on_a_phone_sees_only_their_own_visits(phone: Checked) -> None:
    page = phone.page
    phone.login("worker")
    assert page.url.endswith("/console/me")
    uids = page.locator("li.visit").evaluate_all("els => els.map(e => e.dataset.uid)")
    assert uids and all("W1" in uid for uid in uids)
    assert "Ewa Kowalska" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    assert page.locator("a[href^='geo:']").count() == len(uids)
    phone.accessible()
    phone.screenshot("worker.png", full_page=True)
    page.get_by_role("link", name="English").click()
    page.wait_for_selector("text=My visits")
    phone.accessible()


def test_a_form_post_without_the_csrf_token_is_refused(tab: Checked) -> None:
    page = tab.page
    tab.login("dispatcher")
    page.goto(DAY_PATH)
    before = page.locator("h2#version-title").inner_text()
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    with page.expect_response(re.compile(r"/plan$")) as answer:
        page.get_by_role("button", name=re.compile("Zaplanuj")).click()
    assert answer.value.status == 403
    page.wait_for_selector("text=Formularz wygasł")
    page.goto(DAY_PATH)
    assert page.locator("[data-job-status]").count() == 0  # no job was started
    assert page.locator("h2#version-title").inner_text() == before
    tab.accessible()


def test_the_login_page_is_accessible_and_the_date_is_polish(tab: Checked) -> None:
    page = tab.page
    page.goto("/")
    assert page.url.endswith("/console/login")
    tab.accessible()
    tab.login("dispatcher")
    page.goto(DAY_PATH)
    assert "wtorek, 1 grudnia 2026" in page.locator("h1").inner_text()


def test_dispatcher_drags_a_visit_and_sees_the_checker_verdict_before_saving(tab: Checked) -> None:
    """Issue 18: drag to move; the drop fills the edit form and asks the checker (dry run), nothing saved."""
    page = tab.page
    tab.login("dispatcher")
    page.goto(DAY_PATH)
    version = page.locator("h2#version-title").inner_text()
    block = page.locator("a.visit-link[data-request=R1] rect").first
    block.scroll_into_view_if_needed()
    box = block.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2, steps=8)  # 2 px a minute: +1 h
    page.mouse.up()
    page.wait_for_selector("#edit-verdict")
    assert page.get_by_label("Wizyta", exact=True).input_value() == "R1"
    assert page.get_by_label("Rozpoczęcie (GG:MM)").input_value() != ""
    verdict = page.locator("#edit-verdict").inner_text()
    assert "Kontroler" in verdict  # accepted ("accepts ... nothing is saved yet") or refused, with the rule
    assert page.locator("h2#version-title").inner_text() == version  # a check saves nothing
    tab.accessible()
    tab.screenshot("board-drag-verdict.png", "#edit")
    page.goto(DAY_PATH)
    page.locator("a.visit-link[data-request=R3]").first.click()  # a click opens the form with the visit chosen
    page.wait_for_url(re.compile(r"visit=R3"))
    assert page.get_by_label("Wizyta", exact=True).input_value() == "R3"


def test_coordinator_reads_budgets_changes_with_an_override_and_cancels(tab: Checked) -> None:
    page = tab.page
    tab.login("coordinator")
    page.get_by_role("link", name="Mazur Krystyna").click()
    page.goto(page.url + f"?on={DAY.isoformat()}")
    left = page.locator("tr[data-decision] td.left").inner_text()
    assert left.startswith("1.25")  # 5 h a week, 5 x 45 min booked
    tab.accessible()
    tab.screenshot("senior.png", full_page=True)
    page.get_by_role("link", name="Nowe zlecenie", exact=True).last.click()
    page.get_by_label("Usługa").select_option("home_care")
    page.get_by_label("Data (pierwszy dzień)").fill("2026-12-02")
    page.get_by_label("Najwcześniejsze rozpoczęcie").fill("12:00")
    page.get_by_label("Najpóźniejsze rozpoczęcie").fill("13:00")
    page.get_by_label("Czas trwania (minuty)").fill("90")
    page.get_by_role("button", name="Wprowadź zlecenie").click()
    error = page.locator("#duration-error")
    error.wait_for()
    assert "[budget]" in error.inner_text() and "wykorzystano 3.75 z 5 godz." in error.inner_text()
    assert page.get_by_label("Czas trwania (minuty)").get_attribute("aria-invalid") == "true"
    tab.accessible()
    tab.screenshot("request-refused.png", "main")
    page.get_by_label("Uzasadnienie odstępstwa od zasad przyjmowania (koordynator)").fill("szpital przesunął wizytę")
    page.get_by_role("button", name="Wprowadź zlecenie").click()
    page.wait_for_selector("text=Zlecenie wprowadzono")
    created = re.search(r"Zlecenie wprowadzono: (\S+)", page.locator("p.ok").inner_text()).group(1)
    page.goto(f"/console/requests/{created}")
    page.get_by_label("Najpóźniejsze rozpoczęcie").fill("11:00")
    page.get_by_role("button", name="Zapisz zmianę").click()
    page.locator("#window_end-error").wait_for()  # 11:00 is before the earliest start 12:00
    tab.accessible()
    page.get_by_label("Najpóźniejsze rozpoczęcie").fill("13:30")
    page.get_by_role("button", name="Zapisz zmianę").click()
    page.locator("#duration-error").wait_for()  # a change of its times is a new submission: over budget again
    page.get_by_label("Uzasadnienie odstępstwa od zasad przyjmowania (koordynator)").fill("szpital przesunął wizytę")
    page.get_by_role("button", name="Zapisz zmianę").click()
    page.wait_for_selector("text=Zlecenie zostało zmienione")
    page.get_by_role("button", name="Odwołaj to zlecenie").click()
    page.wait_for_selector("#cancelled-note")
    tab.accessible()
    page.get_by_role("link", name="English").click()
    page.wait_for_selector("text=The request was cancelled.")
    tab.accessible()


def test_coordinator_imports_a_file_and_sees_every_bad_row(tab: Checked, tmp_path: Path) -> None:
    page = tab.page
    tab.login("coordinator")
    page.get_by_role("link", name="Import pliku").click()
    tab.accessible()
    bad = tmp_path / "zlecenia.csv"
    bad.write_text("\ufeffsenior_id;service;first_date;window_start;window_end;duration\r\n"
                   "S1;home_care;07.12.2026;14:00;15:00;30\r\nS9;home_care;08.12.2026;14:00;15:00;30\r\n"
                   "S2;home_care;09.12.2026;16:00;15:00;30\r\n", encoding="utf-8")
    page.get_by_label("Zawartość pliku").select_option("requests")
    page.get_by_label("Plik (CSV lub XLSX)").set_input_files(str(bad))
    assert page.get_by_label("Tylko sprawdź (nic nie zapisuj)").is_checked()
    page.get_by_role("button", name="Wyślij plik").click()
    page.wait_for_selector("#import-problems")
    assert page.locator("tr[data-row]").evaluate_all("rows => rows.map(r => r.dataset.row)") == ["3", "4"]
    tab.accessible()
    tab.screenshot("import-rows.png", "main")


def test_worker_marks_a_visit_started_and_finished_on_a_phone(phone: Checked) -> None:
    page = phone.page
    phone.login("worker")
    visit = page.locator("li.visit[data-checkin=planned]").first
    uid = visit.get_attribute("data-uid")
    visit.get_by_role("button", name=re.compile("^Rozpoczęta")).click()
    page.wait_for_selector("#checkin-done")
    this = page.locator(f"li.visit[data-uid='{uid}']")
    assert this.get_attribute("data-checkin") == "started"
    phone.accessible()
    this.get_by_label("Uwaga (opcjonalnie)").fill("zakupy zrobione")
    this.get_by_role("button", name=re.compile("^Zakończona")).click()
    page.wait_for_selector("text=Oznaczono jako zakończoną.")
    this = page.locator(f"li.visit[data-uid='{uid}']")
    assert this.get_attribute("data-checkin") == "finished" and "zakupy zrobione" in this.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.accessible()
    phone.screenshot("worker-checkin.png", full_page=True)
