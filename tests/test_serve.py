"""kitgen serve: the same kits as the command line, through a browser's requests, and refused to anyone else."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

pytest.importorskip("flask", reason="the serve extra (pip install -e '.[serve]')")

from kit.serve import COOKIE, Server, create_app  # noqa: E402
from tests.filling import fill  # noqa: E402

PORT = 8123
HOST = f"127.0.0.1:{PORT}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    served = Server(None, tmp_path / "out", PORT)
    yield served
    served.workers.shutdown(cancel_futures=True)


@pytest.fixture
def client(server: Server):  # type: ignore[no-untyped-def]
    """A browser that opened the printed address: it holds the token's cookie."""
    browser = create_app(server).test_client()
    opened = browser.get(f"/?token={server.token}", headers={"Host": HOST})
    assert opened.status_code == 302 and opened.headers["Location"] == "/"
    assert opened.headers["Set-Cookie"].startswith(f"{COOKIE}_{PORT}=") and "HttpOnly" in opened.headers["Set-Cookie"]
    assert "SameSite=Strict" in opened.headers["Set-Cookie"]
    return browser


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_a_request_without_the_token_from_another_host_or_without_csrf_is_refused(server: Server, client) -> None:
    stranger = create_app(server).test_client()
    assert stranger.get("/", headers={"Host": HOST}).status_code == 403  # no token, no cookie
    assert stranger.get("/?token=wrong", headers={"Host": HOST}).status_code == 403
    rebound = client.get(f"/?token={server.token}", headers={"Host": f"attacker.example:{PORT}"})
    assert rebound.status_code == 403 and b"only its own address" in rebound.data  # DNS rebinding
    form = {"role": "cv-engineer", "level": "senior"}
    assert client.post("/kits", data=form, headers={"Host": HOST}).status_code == 403  # no CSRF token
    assert client.post("/kits", data={**form, "csrf": "forged"}, headers={"Host": HOST}).status_code == 403
    assert not (server.out).exists() and not server.jobs


def test_the_token_redirect_stays_on_this_server_and_keeps_the_query(server: Server) -> None:
    browser = create_app(server).test_client()
    kept = browser.get(f"/library?role=cv-engineer&token={server.token}", headers={"Host": HOST})
    assert kept.status_code == 302 and kept.headers["Location"] == "/library?role=cv-engineer"
    for path in ("/%09/evil.example", "//evil.example", "/%0a/x", "/\\evil.example"):
        sent = browser.get(f"{path}?token={server.token}", headers={"Host": HOST})
        assert sent.status_code == 302 and sent.headers["Location"] == "/", path
    for token in ("%C3%A9", server.token[:-1] + "%C3%A9"):  # not ASCII: refused, not a server error
        assert create_app(server).test_client().get(f"/?token={token}", headers={"Host": HOST}).status_code == 403


def test_every_page_loads_nothing_but_its_own_stylesheet(client) -> None:
    page = client.get("/", headers={"Host": HOST})
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy and "script" not in policy
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert b"<script" not in page.data and b"Computer-vision engineer" in page.data


@pytest.mark.slow
def test_a_kit_made_through_the_form_is_the_command_lines(server: Server, client, run, tmp_path: Path) -> None:
    home = client.get("/", headers={"Host": HOST}).get_data(as_text=True)
    form = {"csrf": csrf(home), "role": "cv-engineer", "level": "senior", "candidate": "Zoë Łukasz <b>Lovelace</b>",
            "interviewer": "Grace Hopper", "date": "2026-12-01", "paper": "a4", "seed": "1", "panel": "1"}
    made = client.post("/kits", data=form, headers={"Host": HOST})
    assert made.status_code == 303
    job_id = made.headers["Location"].rsplit("/", 1)[1]
    server.jobs[job_id].future.result(timeout=300)  # the worker process makes it
    page = client.get(f"/kits/{job_id}", headers={"Host": HOST}).get_data(as_text=True)
    assert "Zoë Łukasz &lt;b&gt;Lovelace&lt;/b&gt;" in page and "<b>Lovelace" not in page  # every value escaped
    packet = client.get(f"/kits/{job_id}/interviewer.pdf", headers={"Host": HOST})
    assert packet.status_code == 200 and packet.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(packet.data)).pages[0].extract_text()
    assert "Zoë Łukasz <b>Lovelace</b>" in text and "Grace Hopper" in text
    assert run("--role", "cv-engineer", "--level", "senior", "--candidate", "Zoë Łukasz <b>Lovelace</b>", "--interviewer",
               "Grace Hopper", "--date", "2026-12-01", "--out", tmp_path / "cli").exit_code == 0
    by_cli = next((tmp_path / "cli").iterdir())
    assert (next(server.out.iterdir()) / "kit.yaml").read_text() == (by_cli / "kit.yaml").read_text()  # same kit
    zipped = client.get(f"/kits/{job_id}.zip", headers={"Host": HOST})
    assert "filename*=UTF-8''" in zipped.headers["Content-Disposition"]  # a name beyond Latin-1 still downloads
    archive = zipfile.ZipFile(io.BytesIO(zipped.data))
    assert sorted(name.split("/")[1] for name in archive.namelist()) == sorted(p.name for p in by_cli.iterdir())
    for path in ("/kits/nope/interviewer.pdf", f"/kits/{job_id}/..%2Fkit.yaml", f"/kits/{job_id}/other.pdf"):
        assert client.get(path, headers={"Host": HOST}).status_code == 404  # the browser never names a file


def test_a_bad_form_is_answered_on_the_page_and_makes_nothing(server: Server, client) -> None:
    home = client.get("/", headers={"Host": HOST}).get_data(as_text=True)
    answer = client.post("/kits", data={"csrf": csrf(home), "role": "cv-enginer", "level": "senior",
                                        "date": "20260101", "panel": "9", "seed": "²"}, headers={"Host": HOST})
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "choose a role from the list" in text and "the date must be a date" in text and "panel 1 to 8" in text
    assert "seed is a whole number from 0 to 2147483647" in text
    assert not server.jobs and not server.out.exists()


@pytest.mark.slow
def test_two_filled_packets_scored_through_the_page_give_kitgen_scores_numbers(server: Server, client, run,
                                                                                tmp_path: Path) -> None:
    assert run("--role", "nlp-engineer", "--level", "mid", "--out", server.out).exit_code == 0
    kit = server.out / "nlp-engineer-mid"
    packets = []
    for name, rating, recommendation in (("Grace", 3, 3), ("Alan", 2, 2)):
        packets.append(tmp_path / f"{name.lower()}.pdf")
        weights = yaml.safe_load((kit / "kit.yaml").read_text())["weights"]
        fill(kit / "interviewer.pdf", packets[-1], {**{f"c:{c}": rating for c in weights}, "recommendation": recommendation},
             {"interviewer": name})
    page = client.get("/score", headers={"Host": HOST}).get_data(as_text=True)
    kit_id = yaml.safe_load((kit / "kit.yaml").read_text())["kit_id"]
    sent = client.post("/score", headers={"Host": HOST}, content_type="multipart/form-data", data={
        "csrf": csrf(page), "kit": kit_id, "inputs": [(p.open("rb"), p.name) for p in packets]})
    assert sent.status_code == 303
    job_id = sent.headers["Location"].rsplit("/", 1)[1]
    server.scores[job_id].result(timeout=300)
    shown = client.get(f"/scores/{job_id}", headers={"Host": HOST}).get_data(as_text=True)
    by_cli = run("score", "--kit", kit, *packets, "--out", tmp_path / "cli")
    assert by_cli.exit_code == 0, by_cli.output
    expected = json.loads((tmp_path / "cli" / "scores.json").read_text())
    assert f"<strong>{expected['recommendation']}</strong>" in shown
    assert f"weighted total {expected['weighted_total']:.2f}" in shown
    downloaded = json.loads(client.get(f"/scores/{job_id}/scores.json", headers={"Host": HOST}).data)
    for entry in (*downloaded["interviewers"], *expected["interviewers"]):
        entry.pop("source")  # where each file was read from: the only difference
    assert downloaded == expected
    assert PdfReader(io.BytesIO(client.get(f"/scores/{job_id}/debrief.pdf", headers={"Host": HOST}).data)).pages


def test_a_malformed_upload_gives_one_clear_message(server: Server, client, run, tmp_path: Path) -> None:
    assert run("--role", "nlp-engineer", "--level", "mid", "--out", server.out).exit_code == 0
    kit_id = yaml.safe_load((server.out / "nlp-engineer-mid" / "kit.yaml").read_text())["kit_id"]
    page = client.get("/score", headers={"Host": HOST}).get_data(as_text=True)
    sent = client.post("/score", headers={"Host": HOST}, content_type="multipart/form-data", data={
        "csrf": csrf(page), "kit": kit_id, "inputs": [(io.BytesIO(b"kit_id: [unclosed\n"), "../../evil sheet.yaml")]})
    job_id = sent.headers["Location"].rsplit("/", 1)[1]
    result = server.scores[job_id].result(timeout=300)
    (problem,) = result["problems"]
    assert problem.startswith("evil sheet.yaml:2:1: not valid YAML") and "Traceback" not in problem  # named as uploaded, not a path
    shown = client.get(f"/scores/{job_id}", headers={"Host": HOST}).get_data(as_text=True)
    assert "Nothing was scored" in shown and "Traceback" not in shown


@pytest.mark.slow
def test_a_roster_is_checked_row_by_row_then_made_with_its_print_file(server: Server, client, tmp_path: Path) -> None:
    page = client.get("/roster", headers={"Host": HOST}).get_data(as_text=True)
    bad = "candidate,role,level\nAda,cv-engineer,senior\nAlan,cv-enginer,mid\nKaren,nlp-engineer,expert\n"
    answer = client.post("/roster", headers={"Host": HOST}, content_type="multipart/form-data",
                         data={"csrf": csrf(page), "roster": (io.BytesIO(bad.encode()), "roster.csv")})
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "roster.csv:3:1: unknown role &#39;cv-enginer&#39;" in text  # the command line's lines, each by line
    assert "roster.csv:4:1: unknown level &#39;expert&#39;" in text
    assert not server.rosters and not server.out.exists()

    good = "candidate,role,level\nAda Lovelace,cv-engineer,senior\nAlan Turing,cv-engineer,senior\nKaren Jones,nlp-engineer,junior\n"
    checked = client.post("/roster", headers={"Host": HOST}, content_type="multipart/form-data",
                          data={"csrf": csrf(page), "roster": (io.BytesIO(good.encode()), "roster.csv")})
    assert checked.status_code == 303
    roster_id = checked.headers["Location"].rsplit("/", 1)[1]
    shown = client.get(f"/roster/{roster_id}", headers={"Host": HOST}).get_data(as_text=True)
    assert "Karen Jones" in shown and "Make the kits" in shown and not server.out.exists()  # nothing made yet
    started = client.post(f"/roster/{roster_id}", headers={"Host": HOST}, data={"csrf": csrf(shown)})
    assert started.status_code == 303
    server.rosters[roster_id].thread.join(timeout=600)  # type: ignore[union-attr]
    done = client.get(f"/roster/{roster_id}", headers={"Host": HOST}).get_data(as_text=True)
    assert "3 kits made, 0 already complete, 0 failed" in done
    printed = client.get(f"/roster/{roster_id}/print.pdf", headers={"Host": HOST})
    assert printed.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(printed.data)).pages)
    assert all(name in text for name in ("Ada Lovelace", "Alan Turing", "Karen Jones"))
    again = client.post(f"/roster/{roster_id}", headers={"Host": HOST}, data={"csrf": csrf(done)})  # resumes: keeps
    assert again.status_code == 303
    server.rosters[roster_id].thread.join(timeout=600)  # type: ignore[union-attr]
    assert "0 kits made, 3 already complete" in client.get(f"/roster/{roster_id}", headers={"Host": HOST}).get_data(as_text=True)


def test_kitgen_serve_listens_on_loopback_and_answers_only_with_its_token(tmp_path: Path) -> None:
    """The real server, over HTTP: the address it prints works; without the token, it refuses."""
    server = subprocess.Popen([sys.executable, "-m", "kit", "serve", "--out", str(tmp_path)], stderr=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        address = re.search(r"open (http://127\.0\.0\.1:\d+/\?token=\S+)", line).group(1)  # type: ignore[union-attr]
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())  # keeps the token's cookie
        with browser.open(address, timeout=60) as page:  # the redirect sets the cookie; the page follows
            assert page.status == 200 and b"Make a kit" in page.read()
        with browser.open(address.split("?")[0], timeout=60) as again:  # the cookie alone is enough now
            assert again.status == 200
        bare = address.split("?")[0]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bare, timeout=60)
        assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError) as rebound:
            urllib.request.urlopen(urllib.request.Request(address, headers={"Host": "example.com"}), timeout=60)
        assert rebound.value.code == 403
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_the_library_page_filters_questions_and_says_when_a_filter_is_unknown(client) -> None:
    page = client.get("/library?role=cv-engineer&competency=vision&kind=nonsense", headers={"Host": HOST})
    text = page.get_data(as_text=True)
    rows = re.findall(r'<tr><th scope="row"><code>([^<]+)</code></th><td>([^<]+)</td>', text)
    from kit.validate import load_library

    library = load_library()
    expected = sorted(q.id for q in library.questions.values() if "cv-engineer" in q.roles and q.competency == "vision")
    assert [qid for qid, _ in rows] == expected and len(expected) > 5
    assert {competency for _, competency in rows} == {library.competency("vision").title}
    assert "no kind &#39;nonsense&#39; in this library" in text


def test_the_check_page_lists_a_team_layers_problems_by_file_and_line(tmp_path: Path) -> None:
    served = Server(Path(__file__).parent / "fixtures" / "schema-team" / "kitgen.yaml", tmp_path / "out", PORT)
    try:
        browser = create_app(served).test_client()
        browser.get(f"/?token={served.token}", headers={"Host": HOST})
        text = browser.get("/check", headers={"Host": HOST}).get_data(as_text=True)
    finally:
        served.workers.shutdown()
    assert "3 problems, by file and line" in text
    assert re.search(r"questions/a.yaml</td><td>15</td><td>schema</td><td>[^<]*visoin", text)
