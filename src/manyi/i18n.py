"""User-facing messages in Simplified Chinese (zh) and English (en).

Every message a user can see is a key in ``MESSAGES`` with both languages. Code raises or
records a :class:`Message` (key + parameters); the adapter (CLI, web) renders it in the
user's language. ``MANYI_LANG`` picks the default language (``en`` if unset).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

LANGS = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # --- instrument (survey definition) -------------------------------------------------
    "inst.yaml_syntax": {
        "en": "YAML syntax error: {detail}",
        "zh": "YAML 语法错误：{detail}",
    },
    "cli.bad_lang": {
        "en": 'unknown language "{lang}": use --lang zh (简体中文) or --lang en (English)',
        "zh": '未知语言 "{lang}"：请用 --lang zh（简体中文）或 --lang en（English）',
    },
    "cli.format_mismatch": {
        "en": "--format {fmt} does not match the output file {file} ({ext}): change one of them",
        "zh": "--format {fmt} 与输出文件 {file}（{ext}）不符：请修改其中之一",
    },
    "cli.demo_exists": {
        "en": "{dir} already exists and is not empty: choose another folder, or add --force to overwrite it",
        "zh": "{dir} 已存在且不为空：请换一个目录，或加 --force 覆盖",
    },
    "cli.interrupted": {"en": "interrupted", "zh": "已中断"},
    "cli.out_of_memory": {
        "en": "out of memory: the file is too large for this machine (try a smaller file or more memory)",
        "zh": "内存不足：文件对本机过大（请换小一些的文件或增加内存）",
    },
    "cli.internal": {
        "en": "internal error ({detail}). This is a bug in manyi, not your mistake: please report it "
        "with the command and, if you can, the file; run again with --debug for the details",
        "zh": "内部错误（{detail}）。这是 manyi 的缺陷，不是您的错误：请连同命令和（如可能）文件一起报告；"
        "加 --debug 重新运行可看到详情",
    },
    "yaml.too_large": {
        "en": "{file} is larger than {limit} kB: not a survey definition or model file",
        "zh": "{file} 超过 {limit} kB，不像是问卷定义或模型文件",
    },
    "yaml.too_deep": {
        "en": "{file}: the YAML is nested too deeply to read",
        "zh": "{file}：YAML 嵌套层次过深，无法读取",
    },
    "yaml.too_many_nodes": {
        "en": "{file}: the YAML expands to more than {limit} values (aliases of aliases?); refused",
        "zh": "{file}：YAML 展开后超过 {limit} 个值（别名套别名？），拒绝读取",
    },
    "yaml.duplicate_key": {
        "en": '{file} line {line}: the key "{key}" is given twice (also on line {first}); keep one',
        "zh": '{file} 第 {line} 行：键 "{key}" 出现了两次（另见第 {first} 行），请只保留一个',
    },
    "inst.satisfied_at_share": {
        "en": "satisfied_at {value:g} looks like a share, but the index runs from 0 to 100: write {hint:g}",
        "zh": "satisfied_at {value:g} 像是比例，但满意度指数的范围是 0–100：请写 {hint:g}",
    },
    "inst.satisfied_at_range": {
        "en": "satisfied_at {value:g} is outside the index's range 0-100",
        "zh": "satisfied_at {value:g} 超出指数范围 0–100",
    },
    "inst.share_percent": {
        "en": "{field} {value:g} looks like a percentage, but it is a share from 0 to 1: write {hint:g}",
        "zh": "{field} {value:g} 像是百分数，但它是 0 到 1 之间的比例：请写 {hint:g}",
    },
    "inst.share_range": {
        "en": "{field} {value:g} must be a share from 0 to 1",
        "zh": "{field} {value:g} 必须是 0 到 1 之间的比例",
    },
    "inst.item_weights_renormalised": {
        "en": "the item weights of dimension {dimension} sum to {total:g}: they are used relative to each other (rescaled to sum to 1)",
        "zh": "维度 {dimension} 的题目权重之和为 {total:g}：按相对大小使用（已缩放为和为 1）",
    },
    "inst.not_mapping": {
        "en": "the file must hold a mapping (key: value) at the top level",
        "zh": "文件顶层必须是键值映射（key: value）",
    },
    "inst.not_found": {"en": "file not found", "zh": "找不到文件"},
    "inst.field": {"en": "{detail}", "zh": "{detail}"},
    "inst.missing": {"en": "required field is missing", "zh": "缺少必填字段"},
    "inst.extra": {"en": "unknown field (check the spelling)", "zh": "未知字段（请检查拼写）"},
    "inst.unknown_scale": {"en": 'unknown scale "{name}"', "zh": '未知量表 "{name}"'},
    "inst.dim_weights_sum": {
        "en": "weights of the dimensions sum to {total:g}, expected 1",
        "zh": "各维度权重之和为 {total:g}，应为 1",
    },
    "inst.dim_weights_partial": {
        "en": "give a weight to every dimension or to none (then they are equal)",
        "zh": "要么为每个维度都指定权重，要么都不指定（此时权重相等）",
    },
    "inst.duplicate_id": {
        "en": 'id "{id}" is used more than once (also at {other})',
        "zh": 'id "{id}" 重复使用（另见 {other}）',
    },
    "inst.reserved_id": {
        "en": 'id "{id}" is reserved for a response column; choose another',
        "zh": 'id "{id}" 是答卷的保留列名，请换一个',
    },
    "inst.bad_slug": {
        "en": 'id "{id}" must be a slug: letters, digits, "_" or "-", starting with a letter',
        "zh": 'id "{id}" 须为标识符：以字母开头，仅含字母、数字、"_" 或 "-"',
    },
    "inst.scale_range": {
        "en": "scale min {min:g} must be below max {max:g}",
        "zh": "量表最小值 {min:g} 必须小于最大值 {max:g}",
    },
    "inst.label_outside": {
        "en": "label for {value:g} lies outside the scale {min:g}-{max:g}",
        "zh": "标签值 {value:g} 超出量表范围 {min:g}-{max:g}",
    },
    "inst.label_ambiguous": {
        "en": 'label "{label}" is used for {a:g} and {b:g}',
        "zh": '标签 "{label}" 同时用于 {a:g} 和 {b:g}',
    },
    "inst.ratio_min": {
        "en": "points: ratio needs scales with min >= 0 (scale {name} starts at {min:g})",
        "zh": "points: ratio 要求量表最小值 >= 0（量表 {name} 从 {min:g} 开始）",
    },
    "inst.weight_positive": {"en": "weight must be > 0", "zh": "权重必须大于 0"},
    "inst.no_items": {
        "en": "a dimension needs at least one item",
        "zh": "每个维度至少需要一个题目",
    },
    "inst.no_dimensions": {"en": "at least one dimension is needed", "zh": "至少需要一个维度"},
    "inst.question_scale": {
        "en": "a {type} question needs a scale",
        "zh": "{type} 类型的题目需要指定量表",
    },
    "inst.choice_needs_choices": {
        "en": "a choice question needs a list of choices",
        "zh": "选择题需要给出选项列表（choices）",
    },
    "inst.text_missing_lang": {
        "en": "text needs both zh and en (missing: {missing})",
        "zh": "文本须同时提供 zh 和 en（缺少：{missing}）",
    },
    "inst.unknown_ref": {"en": 'unknown {kind} "{id}"', "zh": '未知的 {kind} "{id}"'},
    "inst.summary": {
        "en": "OK {file}: {id} v{version}, {n_dim} dimensions, {n_items} items "
        "({n_exp} with expectation, {n_imp} with importance), {n_q} other questions",
        "zh": "OK {file}：{id} v{version}，{n_dim} 个维度，{n_items} 个题目"
        "（{n_exp} 个含期望，{n_imp} 个含重要性），{n_q} 个其他问题",
    },
    "inst.errors": {
        "en": "{n} error(s) in {file}",
        "zh": "{file} 中有 {n} 处错误",
    },
    # --- responses ----------------------------------------------------------------------
    "resp.not_found": {"en": "{file}: file not found", "zh": "{file}：找不到文件"},
    "resp.format": {
        "en": "{file}: unsupported file type {ext} (use .csv, .xlsx or .parquet)",
        "zh": "{file}：不支持的文件类型 {ext}（请使用 .csv、.xlsx 或 .parquet）",
    },
    "resp.unreadable": {
        "en": "{file}: cannot read the file ({detail})",
        "zh": "{file}：无法读取文件（{detail}）",
    },
    "resp.encoding": {
        "en": "{file}: the text is neither UTF-8 nor GBK; save it as UTF-8 CSV",
        "zh": "{file}：文本既不是 UTF-8 也不是 GBK 编码，请另存为 UTF-8 CSV",
    },
    "resp.empty": {"en": "{file}: the file has no data rows", "zh": "{file}：文件没有数据行"},
    "resp.no_item_columns": {
        "en": "{file}: none of the instrument's item columns ({examples}, ...) is in the file",
        "zh": "{file}：文件中没有问卷的任何题目列（{examples} 等）",
    },
    "resp.missing_column": {
        "en": "column {column} is not in the file; its answers count as missing",
        "zh": "文件中没有 {column} 列，该题按缺失处理",
    },
    "resp.duplicate_column": {
        "en": "{file}: column {column} appears more than once in the header",
        "zh": "{file}：表头中 {column} 列出现了多次",
    },
    "resp.unused_column": {
        "en": "column {column} is not part of the instrument and was ignored",
        "zh": "{column} 列不属于问卷，已忽略",
    },
    "resp.where": {
        "en": "{file} row {row}, column {column}: {reason}",
        "zh": "{file} 第 {row} 行，{column} 列：{reason}",
    },
    "resp.where_row": {"en": "{file} row {row}: {reason}", "zh": "{file} 第 {row} 行：{reason}"},
    "resp.outside_scale": {
        "en": '"{value}" is outside the scale {min:g}-{max:g}',
        "zh": '"{value}" 超出量表范围 {min:g}-{max:g}',
    },
    "resp.not_whole": {
        "en": '"{value}" is not a whole point of the scale {min:g}-{max:g}',
        "zh": '"{value}" 不是量表 {min:g}-{max:g} 上的整数刻度',
    },
    "resp.unknown_label": {
        "en": '"{value}" is neither a number nor a label of the scale {scale}',
        "zh": '"{value}" 既不是数字，也不是量表 {scale} 的标签',
    },
    "resp.unknown_choice": {
        "en": '"{value}" is not one of the choices ({choices})',
        "zh": '"{value}" 不在选项中（{choices}）',
    },
    "resp.bad_date": {
        "en": '"{value}" is not a date/time (use e.g. 2026-03-31 or 2026-03-31 14:05)',
        "zh": '"{value}" 不是日期时间（例如 2026-03-31 或 2026-03-31 14:05）',
    },
    "resp.weight_positive": {"en": "a weight must be above 0", "zh": "权重必须大于 0"},
    "resp.no_id": {"en": "the response id is empty", "zh": "答卷编号为空"},
    "resp.duplicate_id": {
        "en": 'response id "{id}" already appeared in row {first}; this row was not used',
        "zh": '答卷编号 "{id}" 已在第 {first} 行出现，本行未使用',
    },
    "an.validation": {
        "en": "{file}: {read} rows read = {used} used + {rejected} rejected; {values} values rejected (manyi score shows each)",
        "zh": "{file}：读取 {read} 行 = 使用 {used} 行 + 拒绝 {rejected} 行；拒绝 {values} 个值（manyi score 会逐条列出）",
    },
    "resp.mixed_encoding": {
        "en": "{file}: read as UTF-8, but {n} line(s) are in another encoding (lines {lines}); their characters that do not decode show as �",
        "zh": "{file}：按 UTF-8 读取，但有 {n} 行使用了其他编码（第 {lines} 行）；无法解码的字符显示为 �",
    },
    "resp.sheet_read": {
        "en": '{file}: read the sheet "{sheet}" (sheets: {sheets}); choose another with --sheet',
        "zh": '{file}：读取了工作表 "{sheet}"（全部工作表：{sheets}）；可用 --sheet 指定其他工作表',
    },
    "resp.no_sheet": {
        "en": '{file} has no sheet "{sheet}" (sheets: {sheets})',
        "zh": '{file} 中没有工作表 "{sheet}"（现有：{sheets}）',
    },
    "resp.is_folder": {
        "en": "{file} is a folder, not a file",
        "zh": "{file} 是文件夹，不是文件",
    },
    "resp.date_orders": {
        "en": '{column}: both day/month ("{a}") and month/day ("{b}") dates appear; fix the file or give --date-format dmy or mdy',
        "zh": '{column}：同时出现“日/月”（"{a}"）和“月/日”（"{b}"）两种写法；请修正文件或用 --date-format dmy 或 mdy 指定',
    },
    "resp.date_ambiguous": {
        "en": "{column}: dates such as {examples} can be day/month or month/day and no value decides; "
        "give --date-format dmy or mdy (or date_format in the instrument)",
        "zh": "{column}：{examples} 这样的日期既可能是“日/月”也可能是“月/日”，无法判断；"
        "请用 --date-format dmy 或 mdy 指定（或在问卷定义中设置 date_format）",
    },
    "resp.bad_date_format": {
        "en": '--date-format "{value}": use dmy (03/02/2026 = 3 February), mdy (= March 2) or ymd',
        "zh": '--date-format "{value}"：请用 dmy（03/02/2026 = 2 月 3 日）、mdy（= 3 月 2 日）或 ymd',
    },
    "resp.too_few_answers": {
        "en": "too few items answered to compute the index (they carry less than {share:.0%} of its weight, min_answered)",
        "zh": "回答的题目太少，无法计算指数（所答题目权重不足 {share:.0%}，见 min_answered）",
    },
    "resp.no_answers": {
        "en": "no item of the index was answered",
        "zh": "没有回答任何计入指数的题目",
    },
    "resp.no_ids_column": {
        "en": "there is no response_id column; rows are numbered by their row in the file",
        "zh": "没有 response_id 列，按文件行号编号",
    },
    "resp.report": {
        "en": "{read} rows read = {used} used + {rejected} rejected; {values} values rejected",
        "zh": "读取 {read} 行 = 使用 {used} 行 + 拒收 {rejected} 行；拒收 {values} 个数值",
    },
    # --- scoring ------------------------------------------------------------------------
    "score.unknown_by": {
        "en": "cannot group by {column}: no such column in the responses (have: {have})",
        "zh": "无法按 {column} 分组：答卷中没有该列（现有：{have}）",
    },
    "score.no_dates": {
        "en": "--period needs a submitted_at column with dates",
        "zh": "--period 需要含日期的 submitted_at 列",
    },
    "score.bad_period": {
        "en": 'period must be month, quarter or year, not "{period}"',
        "zh": 'period 必须是 month、quarter 或 year，而不是 "{period}"',
    },
    "score.compare_needs_period": {
        "en": "--compare previous needs --period (month, quarter or year)",
        "zh": "--compare previous 需要同时指定 --period（month、quarter 或 year）",
    },
    "score.unknown_weights": {
        "en": "there is no weight column {column} in the responses (manyi weight writes one named weight)",
        "zh": "答卷中没有权重列 {column}（manyi weight 会写出名为 weight 的列）",
    },
    "score.bad_weights": {
        "en": "{n} response(s) have no positive weight in column {column} (responses {rows}); they are left out of every figure",
        "zh": "{n} 份答卷在 {column} 列中没有正的权重（答卷 {rows}），不计入任何统计",
    },
    "score.weights_not_numeric": {
        "en": 'the weight column {column} must hold numbers; {n} value(s) do not, e.g. "{value}" (responses {rows})',
        "zh": '权重列 {column} 必须是数值；有 {n} 个值不是，例如 "{value}"（答卷 {rows}）',
    },
    "score.weights_negative": {
        "en": "the weight column {column} has {n} negative or infinite weight(s) (responses {rows}); weights must be 0 or more",
        "zh": "权重列 {column} 中有 {n} 个负数或无穷大的权重（答卷 {rows}）；权重必须不小于 0",
    },
    "score.weights_none": {
        "en": "no response has a positive weight in column {column}: nothing to weight",
        "zh": "{column} 列中没有任何答卷的权重为正，无法加权",
    },
    "score.no_rows": {
        "en": "{file}: no responses to score ({summary})",
        "zh": "{file}：没有可计分的答卷（{summary}）",
    },
    "score.no_period_date": {
        "en": "{n} response(s) without submitted_at are left out of the periods",
        "zh": "{n} 份答卷没有 submitted_at，未计入任何期间",
    },
    # --- PLS models ---------------------------------------------------------------------
    "pls.spec_field": {"en": "{where}: {detail}", "zh": "{where}：{detail}"},
    "pls.template_missing": {
        "en": "template {template}: no dimension for the construct {construct} (name a dimension {names}, "
        "or give the construct's items under constructs:)",
        "zh": "模板 {template}：找不到构念 {construct} 对应的维度（维度可命名为 {names}，或在 constructs: 下给出其题目）",
    },
    "pls.no_items": {"en": "construct {construct} has no items", "zh": "构念 {construct} 没有题目"},
    "pls.dimension_needs_instrument": {
        "en": "construct {construct} refers to dimension {dimension}, which needs an instrument",
        "zh": "构念 {construct} 引用了维度 {dimension}，需要提供问卷定义",
    },
    "pls.unknown_dimension": {
        "en": "construct {construct}: the instrument has no dimension {dimension}",
        "zh": "构念 {construct}：问卷中没有维度 {dimension}",
    },
    "pls.no_constructs": {"en": "the model has no constructs", "zh": "模型没有任何构念"},
    "pls.undefined_construct": {
        "en": "path {path}: construct {construct} is not defined (defined: {have})",
        "zh": "路径 {path}：构念 {construct} 未定义（已定义：{have}）",
    },
    "pls.isolated": {
        "en": "construct {construct} is on no path; connect it or remove it",
        "zh": "构念 {construct} 不在任何路径上，请连接或删除它",
    },
    "pls.item_twice": {
        "en": "item {item} belongs to both {a} and {b}",
        "zh": "题目 {item} 同时属于 {a} 和 {b}",
    },
    "pls.cycle": {
        "en": "the paths form a cycle among {constructs}; PLS path models must be recursive",
        "zh": "路径在 {constructs} 之间形成循环；PLS 路径模型必须是递归的",
    },
    "pls.unknown_target": {
        "en": "target {target} is not a construct of the model ({have})",
        "zh": "目标构念 {target} 不在模型中（{have}）",
    },
    "pls.missing_items": {
        "en": "the data has no column for the items {items}",
        "zh": "数据中缺少这些题目列：{items}",
    },
    "pls.not_numeric": {
        "en": "the items {items} hold values that are not numbers",
        "zh": "题目 {items} 中有非数字的值",
    },
    "pls.casewise": {
        "en": "case-wise deletion removed {n} response(s) with missing values",
        "zh": "按个案删除了 {n} 份含缺失值的答卷",
    },
    "pls.mean_replaced": {
        "en": "{n} missing value(s) replaced by the item means",
        "zh": "{n} 个缺失值已用题目均值替代",
    },
    "pls.too_few": {
        "en": "{n} responses are too few to estimate this model: it needs at least {minimum} "
        "(the largest regression in it has {k} predictor(s); the 10-times rule of Barclay et al. 1995 asks for {k}0)",
        "zh": "{n} 份答卷太少，无法估计该模型：至少需要 {minimum} 份"
        "（模型中最大的回归有 {k} 个自变量；Barclay 等 1995 年的“10 倍法则”要求 {k}0 份）",
    },
    "pls.ten_times": {
        "en": "n = {n} is below the 10-times rule (Barclay et al. 1995: 10 × {k} predictors = {minimum}); estimates and intervals are unstable",
        "zh": "n = {n} 低于“10 倍法则”（Barclay 等 1995：10 × {k} 个自变量 = {minimum}），估计值和区间不稳定",
    },
    "pls.fewer_than_items": {
        "en": "n = {n} is below the number of items ({p}): the item correlation matrix is singular; read the results with care",
        "zh": "n = {n} 少于题目数（{p}）：题目相关矩阵奇异，请谨慎解读结果",
    },
    "pls.constant": {
        "en": "the items {items} have the same answer in every response (zero variance); remove them",
        "zh": "题目 {items} 在所有答卷中取值相同（方差为零），请删除",
    },
    "pls.singular": {
        "en": "the estimation met a singular matrix (perfectly collinear items or constructs)",
        "zh": "估计时遇到奇异矩阵（题目或构念完全共线）",
    },
    "pls.bad_bootstrap": {
        "en": "--bootstrap {value}: the number of resamples is 0 (none) or more, e.g. 5000",
        "zh": "--bootstrap {value}：自助抽样次数应为 0（不抽样）或正整数，例如 5000",
    },
    "pls.bad_bootstrap_missing": {
        "en": 'unknown bootstrap_missing "{value}" (use resample or once)',
        "zh": '未知的 bootstrap_missing "{value}"（可用 resample 或 once）',
    },
    "sample.bad_moe": {
        "en": "--moe {value:g}: for a rate the margin of error is a fraction between 0 and 1 (0.05 for ±5 points)",
        "zh": "--moe {value:g}：比例的允许误差是 0 到 1 之间的小数（±5 个百分点写 0.05）",
    },
    "sample.bad_moe_mean": {
        "en": "--moe {value:g}: the margin of error must be above 0 (in the units of --sd)",
        "zh": "--moe {value:g}：允许误差必须大于 0（与 --sd 同单位）",
    },
    "sample.bad_rate": {
        "en": "--rate {value:g}: the expected rate is a fraction between 0 and 1 (e.g. 0.8)",
        "zh": "--rate {value:g}：预期比例是 0 到 1 之间的小数（例如 0.8）",
    },
    "sample.bad_sd": {
        "en": "--sd {value:g}: the expected standard deviation must be above 0",
        "zh": "--sd {value:g}：预期标准差必须大于 0",
    },
    "sample.bad_deff": {
        "en": "--deff {value:g}: the design effect is 1 or more (1 for a simple random sample)",
        "zh": "--deff {value:g}：设计效应应不小于 1（简单随机抽样为 1）",
    },
    "sample.bad_n": {
        "en": "--n {value}: the sample size must be a positive whole number",
        "zh": "--n {value}：样本量必须是正整数",
    },
    "sample.empty": {
        "en": "{file} lists no customers (only a header): nothing to sample",
        "zh": "{file} 中没有客户（只有表头），无法抽样",
    },
    "sample.unknown_column": {
        "en": 'there is no column "{column}" in the list (columns: {have})',
        "zh": '名单中没有列 "{column}"（现有列：{have}）',
    },
    "sample.sd_not_numeric": {
        "en": 'the column {column} for Neyman allocation must hold numbers; {n} value(s) do not, e.g. "{example}"',
        "zh": 'Neyman 分配所用的列 {column} 必须是数值；有 {n} 个值不是，例如 "{example}"',
    },
    "wt.bad_cap": {
        "en": "--cap {value:g}: the cap is a multiple of the mean weight and must be above 1 (e.g. 5)",
        "zh": "--cap {value:g}：上限是平均权重的倍数，必须大于 1（例如 5）",
    },
    "wt.bad_floor": {
        "en": "--floor {value:g}: the floor is a multiple of the mean weight, from 0 to below 1 (e.g. 0.2)",
        "zh": "--floor {value:g}：下限是平均权重的倍数，取值 0 到 1 之间（不含 1，例如 0.2）",
    },
    "wt.bad_share": {
        "en": '{file} row {row}: "{value}" is not a share, percentage or count (write 0.3, 30% or 300)',
        "zh": '{file} 第 {row} 行："{value}" 不是比例、百分比或数量（请写 0.3、30% 或 300）',
    },
    "wt.duplicate_category": {
        "en": "{file} row {row}: {variable} = {category} is given twice",
        "zh": "{file} 第 {row} 行：{variable} = {category} 重复出现",
    },
    "wt.no_margins": {
        "en": "{file} holds no margins (one row per variable and category with its share)",
        "zh": "{file} 中没有边际数据（每行一个变量、类别及其比例）",
    },
    "wt.renormalised": {
        "en": "the shares of {variable} sum to {total:g}, not 1: they were rescaled to sum to 1",
        "zh": "{variable} 的比例之和为 {total:g}，不是 1：已按比例缩放为 1",
    },
    "wt.count_totals": {
        "en": "the population counts give different totals ({totals}): each variable is used as shares of its own total",
        "zh": "各变量的总体数量合计不一致（{totals}）：每个变量按其自身合计换算为比例",
    },
    "wt.trim_margins": {
        "en": "the weight bounds are too tight for the margins: the worst margin is {error:.2f} points off its target",
        "zh": "权重上下限过紧，无法同时满足边际：最大的边际偏差为 {error:.2f} 个百分点",
    },
    "pls.f2_no_convergence": {
        "en": "f² of the path {path}: the model without this path did not converge; f² is not reported",
        "zh": "路径 {path} 的 f²：去掉该路径后的模型未收敛，不报告 f²",
    },
    "pls.no_convergence": {
        "en": "the PLS algorithm did not converge in {iterations} iterations (tolerance {tol:g}); "
        "raise max_iter or check the model",
        "zh": "PLS 算法在 {iterations} 次迭代内未收敛（容差 {tol:g}）；请增大 max_iter 或检查模型",
    },
    "pls.bad_scheme": {
        "en": 'unknown scheme "{scheme}" (use path, centroid or factorial)',
        "zh": '未知的内部权重方案 "{scheme}"（可选 path、centroid、factorial）',
    },
    "pls.bad_sign_change": {
        "en": 'unknown sign change "{value}" (use none or individual)',
        "zh": '未知的符号调整 "{value}"（可选 none、individual）',
    },
    "pls.bad_indices": {
        "en": "bootstrap indices must be a (resamples × {n}) matrix of rows 0..{n}-1",
        "zh": "自助抽样索引必须是（重抽样数 × {n}）的矩阵，取值 0..{n}-1",
    },
    "pls.inadmissible": {
        "en": "{n} of {of} bootstrap resamples were inadmissible (constant item, singular or not converged) "
        "and were left out",
        "zh": "{of} 次自助重抽样中有 {n} 次不可用（题目无变异、矩阵奇异或未收敛），已剔除",
    },
    "pls.no_scale": {
        "en": "no scale for some items: the 0-100 index needs scale: {{min, max}} in the model or an instrument",
        "zh": "部分题目没有量表：0-100 指数需要在模型中给出 scale: {{min, max}} 或提供问卷定义",
    },
    "pls.no_model": {
        "en": "{file} has no model: section",
        "zh": "{file} 中没有 model: 部分",
    },
    # --- analyses -------------------------------------------------------------------------
    "an.too_few": {
        "en": "{method} needs at least {minimum} respondents with answers; there are {n}",
        "zh": "{method} 至少需要 {minimum} 份有效答卷，现有 {n} 份",
    },
    "an.bad_option": {
        "en": 'unknown {option} "{value}" (use one of: {choices})',
        "zh": '未知的 {option} "{value}"（可选：{choices}）',
    },
    "an.unknown": {
        "en": 'unknown analysis "{name}" (available: {choices})',
        "zh": '未知的分析 "{name}"（可选：{choices}）',
    },
    "an.ipa_unplaced": {
        "en": "not placed in a quadrant (no answers, or no variation to derive importance from): {items}",
        "zh": "未放入任何象限（没有回答，或没有差异无法推导重要性）：{items}",
    },
    "an.singular_data": {
        "en": "{name}: the answers are collinear or too few for this analysis (a singular matrix); add responses or drop duplicated items",
        "zh": "{name}：答卷共线或数量太少，无法进行该分析（矩阵奇异）；请增加答卷或删除重复题目",
    },
    "an.bad_factors": {
        "en": "--factors {value}: choose from 1 to {max} (fewer than the items), or 0 for parallel analysis",
        "zh": "--factors {value}：请在 1 到 {max} 之间选择（少于题目数），或用 0 表示平行分析",
    },
    "cli.os_error_plain": {
        "en": "a file could not be read or written: {reason}",
        "zh": "无法读取或写入文件：{reason}",
    },
    "cli.os_error": {
        "en": "cannot use {file}: {reason}",
        "zh": "无法使用 {file}：{reason}",
    },
    "an.boot_degenerate": {
        "en": "{n} of {of} bootstrap resamples had collinear or constant drivers and were left out",
        "zh": "{of} 次自助抽样中有 {n} 次出现共线或常数驱动因素，已剔除",
    },
    "an.singular": {
        "en": "the items are perfectly collinear (a singular correlation matrix); drop duplicated items",
        "zh": "题目完全共线（相关矩阵奇异），请删除重复的题目",
    },
    "an.shapley_skipped": {
        "en": "Shapley/dominance decomposition left out: {k} drivers (at most {max})",
        "zh": "未做 Shapley/优势分析：驱动因素 {k} 个（最多 {max} 个）",
    },
    "an.collinear": {
        "en": "collinearity: VIF above 5 for {drivers}; read their betas with care and prefer relative weights",
        "zh": "共线性：{drivers} 的 VIF 大于 5；其回归系数需谨慎解读，建议参考相对权重",
    },
    "an.unknown_outcome": {
        "en": 'unknown outcome "{outcome}" (use csi, a dimension, an item or a rating question)',
        "zh": '未知的结果变量 "{outcome}"（可用 csi、维度、题目或评分题）',
    },
    "an.outcome_from_drivers": {
        "en": "the index is computed from the dimensions, so R² is near 1 and the weights echo the instrument's; "
        "use an outcome measured apart (--outcome nps or csat)",
        "zh": "满意度指数由各维度计算而来，R² 接近 1，权重只反映问卷设定；请使用独立测量的结果变量（--outcome nps 或 csat）",
    },
    "an.heywood": {
        "en": "a communality reached 1 in the factor analysis (Heywood case); fewer factors may fit better",
        "zh": "因子分析中有共同度达到 1（Heywood 情形），可考虑减少因子数",
    },
    "an.unweighted_tests": {
        "en": "weights apply to the means, Welch's test and the rate test; Mann–Whitney, ANOVA and Kruskal–Wallis are unweighted",
        "zh": "权重用于均值、Welch 检验和比例检验；Mann–Whitney、方差分析和 Kruskal–Wallis 检验未加权",
    },
    "an.group_skipped": {
        "en": "group {group} left out: {reason}",
        "zh": "分组 {group} 未分析：{reason}",
    },
    "an.no_kano": {
        "en": "the instrument declares no Kano pairs: add a kano: section with functional/dysfunctional questions",
        "zh": "问卷没有定义 Kano 题对：请添加 kano: 部分并给出正向/反向问题",
    },
    "an.kano_questionable": {
        "en": "{attribute}: {share:.0%} of the answer pairs are questionable (Q); check the wording",
        "zh": "{attribute}：{share:.0%} 的答案组合为可疑结果（Q），请检查题目措辞",
    },
    "an.no_expectations": {
        "en": "SERVQUAL needs expectation answers: no item has expectation: true with a column x__expected",
        "zh": "SERVQUAL 需要期望值：没有题目设置 expectation: true 且含 x__expected 列",
    },
    "an.constant": {
        "en": "{what} has the same value for every respondent; it cannot be analysed",
        "zh": "{what} 对所有答卷取值相同，无法分析",
    },
    "an.no_importance": {
        "en": "stated importance needs __importance answers; none of the items has them (use --importance derived)",
        "zh": "陈述重要性需要 __importance 答案；没有题目含重要性（可改用 --importance derived）",
    },
    "an.no_periods": {
        "en": "a control chart needs submitted_at dates in at least {minimum} periods; there are {n}",
        "zh": "控制图需要至少 {minimum} 个期间的 submitted_at 日期，现有 {n} 个",
    },
    "an.groups": {
        "en": "a comparison needs at least two groups in {column}; there is {n}",
        "zh": "比较至少需要 {column} 中的两个组，现有 {n} 个",
    },
    # --- weighting -------------------------------------------------------------------------
    "wt.unknown_variable": {
        "en": "the responses have no column {variable} for the weighting margins",
        "zh": "答卷中没有加权所需的 {variable} 列",
    },
    "wt.bad_margin": {
        "en": "the margin of {variable} has no positive shares",
        "zh": "{variable} 的总体边际没有正的比例",
    },
    "wt.empty_cell": {
        "en": "no respondent has {variable} = {category}, which the population has; merge categories",
        "zh": "样本中没有 {variable} = {category} 的答卷，而总体中有；请合并类别",
    },
    "wt.no_target": {
        "en": "{variable}: the sample has categories without a population share: {categories}",
        "zh": "{variable}：样本中这些类别没有总体比例：{categories}",
    },
    "wt.missing_value": {
        "en": "{n} response(s) have no {variable}; they cannot be weighted (fill or drop them first)",
        "zh": "{n} 份答卷缺少 {variable}，无法加权（请先补全或删除）",
    },
    "wt.left_out": {
        "en": "{n} response(s) lack a value of a margin variable and get no weight",
        "zh": "{n} 份答卷缺少边际变量的取值，未赋予权重",
    },
    "wt.no_convergence": {
        "en": "raking did not converge in {sweeps} sweeps; the margins may contradict each other",
        "zh": "迭代加权在 {sweeps} 轮内未收敛，各边际可能相互矛盾",
    },
    "wt.margins_columns": {
        "en": "the margins file needs columns variable, category and share (or count)",
        "zh": "边际文件需要 variable、category 和 share（或 count）列",
    },
    # --- CLI ----------------------------------------------------------------------------
    "cli.error": {"en": "Error", "zh": "错误"},
    "cli.written": {"en": "written: {path}", "zh": "已写入：{path}"},
    "cli.bad_format": {
        "en": 'unknown format "{fmt}" (use one of: {choices})',
        "zh": '未知格式 "{fmt}"（可选：{choices}）',
    },
    "cli.xlsx_needs_output": {
        "en": "--format xlsx needs --output FILE.xlsx",
        "zh": "--format xlsx 需要 --output FILE.xlsx",
    },
    "cli.demo_files": {"en": "Files in {dir}:", "zh": "{dir} 中的文件："},
    "cli.demo_next": {
        "en": "Next: manyi score --instrument {inst} {data} --by branch --period quarter",
        "zh": "下一步：manyi score --instrument {inst} {data} --by branch --period quarter",
    },
    "cli.demo_next_model": {
        "en": "      manyi model fit --model {inst} {data} --ipma ipma.html",
        "zh": "      manyi model fit --model {inst} {data} --ipma ipma.html",
    },
    "cli.rejected_title": {"en": "Validation report", "zh": "数据校验报告"},
    "cli.more_rejected": {
        "en": "... and {n} more (see --format json)",
        "zh": "……另有 {n} 条（见 --format json）",
    },
    # --- table headings -----------------------------------------------------------------
    "col.group": {"en": "Group", "zh": "分组"},
    "col.n": {"en": "n", "zh": "样本量"},
    "col.csi": {"en": "Index", "zh": "满意度指数"},
    "col.csi_ci": {"en": "95% CI", "zh": "95% 置信区间"},
    "col.rate": {"en": "Satisfied", "zh": "满意率"},
    "col.rate_ci": {"en": "95% CI", "zh": "95% 置信区间"},
    "col.target": {"en": "Target", "zh": "目标"},
    "col.meets": {"en": "Met", "zh": "达标"},
    "col.nps": {"en": "NPS", "zh": "净推荐值"},
    "col.csat": {"en": "CSAT %", "zh": "CSAT %"},
    "col.ces": {"en": "CES", "zh": "CES"},
    "col.change": {
        "en": "Δ index vs previous (* p < .05, Holm)",
        "zh": "较上期指数变化（* p < .05，Holm 校正）",
    },
    "col.all": {"en": "All", "zh": "全部"},
    "col.small": {"en": "n < 30: ±{moe:.1f}", "zh": "n < 30：±{moe:.1f}"},
    "word.yes": {"en": "yes", "zh": "是"},
    "word.no": {"en": "no", "zh": "否"},
    "title.dimensions": {"en": "Dimension indices (0-100)", "zh": "各维度指数（0-100）"},
    "title.gaps": {
        "en": "Perception vs expectation (0-100; ratio P/E: < 1 below expectation)",
        "zh": "感知与期望（0-100；比值 感知÷期望：< 1 低于期望）",
    },
    "col.item": {"en": "Item / dimension", "zh": "题目 / 维度"},
    "col.perception": {"en": "Perception", "zh": "感知"},
    "col.expectation": {"en": "Expectation", "zh": "期望"},
    "col.gap": {"en": "Gap P−E", "zh": "差距 感知−期望"},
    "col.ratio": {"en": "P/E", "zh": "感知÷期望"},
    "col.gap_ci": {"en": "Gap 95% CI", "zh": "差距 95% 置信区间"},
    "col.ratio_ci": {"en": "P/E 95% CI", "zh": "感知÷期望 95% 置信区间"},
    "cli.ci_caption": {"en": "index (95% confidence interval)", "zh": "指数（95% 置信区间）"},
    "title.scorecard": {"en": "Satisfaction scorecard: {title}", "zh": "满意度记分卡：{title}"},
}


def default_lang() -> str:
    """The language from ``MANYI_LANG`` (zh or en), English if unset or unknown."""
    lang = os.environ.get("MANYI_LANG", "en").lower()[:2]
    return lang if lang in LANGS else "en"


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """Render message ``key`` in ``lang`` with ``params`` (text values cut to 200 characters,
    so that a huge bad cell is never echoed whole)."""
    entry = MESSAGES[key]
    return entry[lang if lang in LANGS else default_lang()].format(
        **{k: _cut(v) if isinstance(v, str) else v for k, v in params.items()}
    )


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Message:
    """A message to show a user: a key of ``MESSAGES`` and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.render("en")


class ManyiError(Exception):
    """A user's mistake: one or more messages, shown without a traceback (exit code 2)."""

    def __init__(self, *messages: Message):
        self.messages = list(messages)
        super().__init__("\n".join(str(m) for m in messages))

    def render(self, lang: str | None = None) -> str:
        return "\n".join(m.render(lang) for m in self.messages)


#: Headings of analysis table columns and table names on screen (JSON and CSV keep the ids).
COLUMNS: dict[str, tuple[str, str]] = {
    # tables
    "items": ("题目", "Items"),
    "dimensions": ("维度", "Dimensions"),
    "overall": ("总体", "Overall"),
    "crosshairs": ("分界线", "Cross-hairs"),
    "attributes": ("属性", "Attributes"),
    "means": ("均值比较", "Means"),
    "rates": ("满意率比较", "Satisfaction rates"),
    "omnibus": ("多组检验", "Across all groups"),
    "p_chart": ("不满意率 p 控制图", "p-chart"),
    "xbar_chart": ("均值控制图", "X-bar chart"),
    "s_chart": ("标准差控制图", "S chart"),
    "i_chart": ("单值控制图", "Individuals chart"),
    "mr_chart": ("移动极差图", "Moving-range chart"),
    "signals": ("异常信号", "Signals"),
    "adequacy": ("抽样适切性", "Sampling adequacy"),
    "kmo_items": ("各题 KMO", "KMO per item"),
    "efa_eigenvalues": ("特征值与平行分析", "Eigenvalues and parallel analysis"),
    "loadings_varimax": ("因子载荷（方差最大旋转）", "Loadings (varimax)"),
    "loadings_promax": ("因子载荷（Promax 斜交旋转）", "Loadings (promax)"),
    "promax_correlations": ("因子相关", "Factor correlations"),
    "drivers": ("关键驱动因素", "Key drivers"),
    "model": ("模型", "Model"),
    "margins": ("边际", "Margins"),
    "summary": ("概要", "Summary"),
    # columns
    "item": ("题目", "Item"),
    "dimension": ("维度", "Dimension"),
    "n": ("样本量", "n"),
    "n_eff": ("有效样本量", "Effective n"),
    "perception": ("感知", "Perception"),
    "expectation": ("期望", "Expectation"),
    "gap": ("差距", "Gap"),
    "ci_low": ("95% 下限", "95% CI low"),
    "ci_high": ("95% 上限", "95% CI high"),
    "t": ("t 值", "t"),
    "p": ("p 值", "p"),
    "ratio": ("感知÷期望", "P/E"),
    "servperf": ("SERVPERF", "SERVPERF"),
    "weight": ("权重", "Weight"),
    "measure": ("指标", "Measure"),
    "value": ("数值", "Value"),
    "label": ("内容", "Label"),
    "importance": ("重要性", "Importance"),
    "performance": ("绩效", "Performance"),
    "quadrant": ("象限代码", "Quadrant"),
    "quadrant_name": ("象限", "Quadrant name"),
    "priority": ("改进优先度", "Priority"),
    "rank": ("排名", "Rank"),
    "importance_kind": ("重要性类型", "Importance"),
    "importance_cross": ("重要性分界", "Importance cross"),
    "performance_cross": ("绩效分界", "Performance cross"),
    "attribute": ("属性", "Attribute"),
    "category": ("类别", "Category"),
    "category_name": ("类别名称", "Category name"),
    "second": ("次多类别", "Second"),
    "better": ("Better 系数", "Better"),
    "worse": ("Worse 系数", "Worse"),
    "fong_threshold": ("Fong 临界值", "Fong threshold"),
    "fong_significant": ("Fong 显著", "Fong significant"),
    "group_a": ("组 A", "Group A"),
    "group_b": ("组 B", "Group B"),
    "n_a": ("样本量 A", "n A"),
    "n_b": ("样本量 B", "n B"),
    "mean_a": ("均值 A", "Mean A"),
    "mean_b": ("均值 B", "Mean B"),
    "diff": ("差值 B−A", "Diff B−A"),
    "welch_t": ("Welch t", "Welch t"),
    "welch_df": ("自由度", "df"),
    "welch_p": ("Welch p", "Welch p"),
    "mw_u": ("Mann–Whitney U", "Mann–Whitney U"),
    "mw_p": ("Mann–Whitney p", "Mann–Whitney p"),
    "p_adj": ("校正 p", "Adjusted p"),
    "significant": ("显著", "Significant"),
    "rate_a": ("满意率 A", "Rate A"),
    "rate_b": ("满意率 B", "Rate B"),
    "z": ("z 值", "z"),
    "groups": ("组数", "Groups"),
    "anova_f": ("方差分析 F", "ANOVA F"),
    "anova_p": ("方差分析 p", "ANOVA p"),
    "kruskal_h": ("Kruskal–Wallis H", "Kruskal–Wallis H"),
    "kruskal_p": ("Kruskal–Wallis p", "Kruskal–Wallis p"),
    "period": ("期间", "Period"),
    "dissatisfied": ("不满意数", "Dissatisfied"),
    "cl": ("中心线", "CL"),
    "lcl": ("下控制限", "LCL"),
    "ucl": ("上控制限", "UCL"),
    "mean": ("均值", "Mean"),
    "sd": ("标准差", "SD"),
    "mr": ("移动极差", "MR"),
    "chart": ("控制图", "Chart"),
    "rule": ("判异规则", "Rule"),
    "description": ("说明", "Description"),
    "n_items": ("题目数", "Items"),
    "alpha": ("α 系数", "alpha"),
    "alpha_ci_low": ("α 下限", "alpha CI low"),
    "alpha_ci_high": ("α 上限", "alpha CI high"),
    "omega": ("ω 系数", "omega"),
    "alpha_if_deleted": ("删除该题后 α", "alpha if deleted"),
    "item_total_r": ("校正题总相关", "Item-total r"),
    "kmo": ("KMO", "KMO"),
    "bartlett_chi2": ("Bartlett χ²", "Bartlett chi²"),
    "bartlett_df": ("自由度", "df"),
    "bartlett_p": ("Bartlett p", "Bartlett p"),
    "msa": ("MSA", "MSA"),
    "component": ("成分", "Component"),
    "eigenvalue": ("特征值", "Eigenvalue"),
    "random_p95": ("随机数据 95% 分位", "Random 95th pct"),
    "retained": ("保留", "Retained"),
    "communality": ("共同度", "Communality"),
    "factor": ("因子", "Factor"),
    "driver": ("驱动因素", "Driver"),
    "beta": ("标准化系数", "Beta"),
    "se": ("标准误", "SE"),
    "vif": ("VIF", "VIF"),
    "relative_weight": ("相对权重", "Relative weight"),
    "rw_ci_low": ("相对权重下限", "RW CI low"),
    "rw_ci_high": ("相对权重上限", "RW CI high"),
    "rescaled_rw": ("相对权重占比", "RW share"),
    "shapley": ("Shapley 值", "Shapley"),
    "shapley_share": ("Shapley 占比", "Shapley share"),
    "outcome": ("结果变量", "Outcome"),
    "k": ("驱动因素数", "Drivers"),
    "r2": ("R²", "R²"),
    "r2_adj": ("调整 R²", "Adj. R²"),
    "bootstrap": ("自助抽样次数", "Bootstrap"),
    "variable": ("变量", "Variable"),
    "target": ("总体比例", "Target"),
    "sample": ("样本比例", "Sample"),
    "weighted": ("加权后比例", "Weighted"),
    "method": ("方法", "Method"),
    "deff": ("设计效应", "Design effect"),
    "min_weight": ("最小权重", "Min weight"),
    "max_weight": ("最大权重", "Max weight"),
    "sweeps": ("迭代轮数", "Sweeps"),
    "deff_before_trim": ("截尾前设计效应", "Design effect before trimming"),
    "trim_cap": ("权重上限（×均值）", "Cap (× mean)"),
    "trim_floor": ("权重下限（×均值）", "Floor (× mean)"),
    "trimmed": ("截尾权重数", "Weights trimmed"),
    "trim_cycles": ("截尾-再加权轮数", "Trim-and-rake cycles"),
    "margin_error": ("最大边际偏差", "Largest margin error"),
    "branch": ("网点", "Branch"),
    "tier": ("客户等级", "Tier"),
    "service_type": ("服务类型", "Service type"),
}


def column(name: str, lang: str | None = None) -> str:
    """A table or column heading in ``lang`` (the id itself when unknown)."""
    pair = COLUMNS.get(name)
    if pair is None:
        return name
    return pair[0] if (lang or default_lang()) == "zh" else pair[1]
