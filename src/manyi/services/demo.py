"""Use case: the demo — example instruments, generated data, a scored scorecard."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from manyi import datasets
from manyi.core.messages import ManyiError, Message
from manyi.core.pls import PLSResult
from manyi.core.scoring import ScoreResult
from manyi.io.instruments import EXAMPLES, example_path, load_instrument
from manyi.services.model import fit_model_file
from manyi.services.requests import FitModelRequest, ScoreRequest, Source
from manyi.services.scoring import score_file, write_respondents, write_xlsx


@dataclass
class DemoOutput:
    directory: Path
    files: list[Path]
    by_branch: ScoreResult
    by_branch_quarter: ScoreResult
    csi_model: PLSResult
    campaign: str | None = None
    survey_link: str | None = None
    store_note: Message | None = None
    reports: list[Path] = field(default_factory=list)
    report_note: Message | None = None


def run_demo(
    directory: str | Path = "manyi-demo", seed: int = 7, n: int = 3000, lang: str = "en"
) -> DemoOutput:
    """Write the example instruments and generated responses into ``directory``, score them,
    fit the CSI model and write the survey report in four formats (in ``lang``)."""
    out = Path(directory)
    (out / "instruments").mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for name in EXAMPLES:
        dst = out / "instruments" / f"{name}.yaml"
        shutil.copyfile(example_path(name), dst)
        files.append(dst)
    inst_path = out / "instruments" / "after-sales.yaml"
    inst = load_instrument(inst_path)
    data = out / "after-sales-responses.csv"
    datasets.after_sales(n=n, seed=seed, instrument=inst).to_csv(
        data, index=False, encoding="utf-8-sig"
    )
    files.append(data)
    sq = out / "servqual-responses.csv"
    datasets.servqual(seed=seed + 4).to_csv(sq, index=False, encoding="utf-8-sig")
    files.append(sq)

    inst_src, data_src = Source.of(inst_path), Source.of(data)
    by_branch = score_file(ScoreRequest(instrument=inst_src, responses=data_src, by=["branch"]))
    by_quarter = score_file(
        ScoreRequest(instrument=inst_src, responses=data_src, by=["branch"], period="quarter")
    )
    resp = out / "after-sales-respondents.csv"
    write_respondents(by_branch, resp)
    xlsx = out / "after-sales-scorecard.xlsx"
    write_xlsx(by_quarter, xlsx)
    files += [resp, xlsx]

    # a customer-satisfaction index model (ECSI) on data drawn from a known population model
    ecsi_data = out / "ecsi-responses.csv"
    datasets.ecsi(n=1500, seed=seed).to_csv(ecsi_data, index=False, encoding="utf-8-sig")
    files.append(ecsi_data)
    csi_model = fit_model_file(
        FitModelRequest(
            model=Source.of(out / "instruments" / "ecsi.yaml"),
            data=Source.of(ecsi_data),
            bootstrap=5000,
            seed=seed,
        )
    )
    # the bootstraps of large data count resamples with a compiled kernel: compiled here, once
    # per installation, so that the first large analysis starts at once
    from manyi.services.analysis import ready_kernels

    ready_kernels()
    cases_file = out / "demo-cases.csv"
    datasets.cases(seed=seed).to_csv(cases_file, index=False, encoding="utf-8-sig")
    files.append(cases_file)
    reports, report_note = write_demo_report(inst_path, data, cases_file, out, lang)
    files += reports
    campaign, link, note = load_demo_store(inst_path, data, out, seed)
    return DemoOutput(
        out, files, by_branch, by_quarter, csi_model, campaign, link, note, reports, report_note
    )


def write_demo_report(
    inst_path: Path, data: Path, cases_file: Path, out: Path, lang: str
) -> tuple[list[Path], Message | None]:
    """The survey report of the demo in HTML, XLSX, PPTX and PDF (PDF when Chromium is
    installed; otherwise the message that says how to install it)."""
    from manyi.present.report import start_browser
    from manyi.services.report import build_report, write_report
    from manyi.services.requests import ReportRequest

    report = build_report(
        ReportRequest(
            instrument=Source.of(inst_path),
            responses=Source.of(data),
            cases=Source.of(cases_file),
            by=["branch"],
        )
    )
    written: list[Path] = []
    for fmt in ("html", "xlsx", "pptx"):
        written.append(write_report(report, fmt, out / f"after-sales-report.{fmt}", lang))
    browser = start_browser()
    if browser is None:
        return written, Message("report.no_chromium")
    try:
        written.append(
            write_report(report, "pdf", out / "after-sales-report.pdf", lang, None, browser)
        )
    except ManyiError as exc:
        return written, exc.messages[0]
    finally:
        browser.close()
    return written, None


DEMO_CAMPAIGN = "demo-after-sales"


#: The demo's organisation: company → regions → the branches of the after-sales instrument.
DEMO_UNITS = [
    ("demo-co", "演示服务公司", "Demo Service Co.", ""),
    ("north", "北方区", "North region", "demo-co"),
    ("south", "南方区", "South region", "demo-co"),
    ("west", "西部区", "West region", "demo-co"),
    ("beijing", "北京", "Beijing", "north"),
    ("wuhan", "武汉", "Wuhan", "north"),
    ("shanghai", "上海", "Shanghai", "south"),
    ("guangzhou", "广州", "Guangzhou", "south"),
    ("chengdu", "成都", "Chengdu", "west"),
]


def load_demo_store(
    inst_path: Path, data: Path, out: Path, seed: int, url: str | None = None
) -> tuple[str | None, str | None, Message | None]:
    """Load the demo into the store (``MANYI_DATABASE_URL`` or the embedded SQLite file):
    a campaign on the after-sales instrument with the generated responses, 20 invited demo
    customers, opened; returns (campaign, a survey link, a note if the store was not usable).
    Running the demo again reuses the campaign and adds nothing twice."""
    import pandas as pd

    from manyi.services.requests import SampleRequest
    from manyi.services.store import (
        create_campaign,
        import_file,
        import_units,
        invitations,
        sample_campaign,
        set_status,
    )

    try:
        try:
            create_campaign(DEMO_CAMPAIGN, Source.of(inst_path), "manyi demo", 400, 0.85, url=url)
        except ManyiError as exc:
            if exc.messages[0].key != "store.campaign_exists":
                raise
        units = out / "demo-units.csv"
        pd.DataFrame(DEMO_UNITS, columns=["code", "name_zh", "name_en", "parent"]).to_csv(
            units, index=False, encoding="utf-8-sig"
        )
        import_units(Source.of(units), url=url)
        import_file(DEMO_CAMPAIGN, Source.of(data), url=url, unit_column="branch")
        customers = out / "demo-customers.csv"
        pd.DataFrame(
            {
                "customer_id": [f"DEMO{i:04d}" for i in range(200)],
                "name": [f"演示客户 {i}" for i in range(200)],
                "tier": ["vip" if i % 5 == 0 else "regular" for i in range(200)],
            }
        ).to_csv(customers, index=False, encoding="utf-8-sig")
        sample_campaign(
            DEMO_CAMPAIGN,
            SampleRequest(customers=Source.of(customers), n=20, seed=seed),
            url=url,
        )
        set_status(DEMO_CAMPAIGN, "open", url=url)
        inv = invitations(DEMO_CAMPAIGN, url=url)
        open_ = inv[~inv["answered"]]
        link = str(open_["link"].iloc[0]) if len(open_) else None
        return DEMO_CAMPAIGN, link, None
    except ManyiError as exc:
        return None, None, exc.messages[0]
