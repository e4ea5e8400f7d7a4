"""Build the end-2015 unit inventory of Gansu province: ``units.csv`` and ``projects.csv``.

Coal mines that were operating at end-2015 come from Global Energy Monitor's Global Coal Mine
Tracker (CC BY 4.0, copies in ``sources/``); the JISCO retirement package comes from the
provincial plan (甘肃省工业领域去产能去库存降成本实施方案, 2016); every other unit is
synthetic, calibrated so that the tables reproduce the plan's own figures exactly (154 mines /
6,560 万吨 coal; 9 steel firms with 1,220 / 1,475 / 1,560 万吨 of iron / steel / rolled steel;
61 cement firms with 52 clinker lines, 4,100 万吨 clinker and 5,500 万吨 cement).

Section references follow the plan's own numbering: §II.1.(2) is part 二 (去产能任务),
sub-part (一), heading 1 (煤炭行业), item (2); §II.2 is steel (钢铁行业), §II.3 cement (水泥行业).

Figures from outside the plan, cited where they are used:

- [GCMT] Global Energy Monitor, Global Coal Mine Tracker, CC BY 4.0 (copies in ``sources/``).
- [MOHRSS 2016] Yin Weimin (尹蔚民), Minister of Human Resources and Social Security, State
  Council Information Office press conference, 29 February 2016: about 1.3 million coal and
  0.5 million steel workers to be resettled, a central fund of 1,000亿元. As reported by
  hnr.cn, 1 March 2016: http://hnr.cn/news/xwtx/201603/t20160301_2338428.html
- [State Council 2016] 国发〔2016〕7号 (coal): exit about 500 Mt/yr in 3-5 years from 2016,
  as reported by Reuters, 6 September 2016:
  http://in.reuters.com/article/china-overcapacity-coal-idINL3N1BH4EL;
  国发〔2016〕6号 (steel): cut crude steel capacity by 100-150 Mt by 2020, as restated by the
  State Council, 24 November 2016:
  http://english.www.gov.cn/premier/news/2016/11/24/content_281475499262919.htm
- [Xinhua 2018] Xinhua, Lian Zhenxiang (连振祥), "甘肃今年将退出煤炭产能456万吨", Lanzhou,
  2 March 2018: http://joul.cssn.cn/zx/shwx/shhnew/201803/t20180302_3865224.shtml

Run ``python data/gansu/build.py [--out DIR]``; the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
GCMT_FILES = ("gcmt_gansu_nonclosed.csv", "gcmt_gansu_closed.csv")
SEED = 2016

# --------------------------------------------------------------------------------------------
# Output schema
# --------------------------------------------------------------------------------------------

UNIT_COLUMNS = [
    "unit_id", "name", "name_zh", "sector", "kind", "product", "capacity", "spec", "firm",
    "group", "region", "region_zh", "counts_in", "workers", "owner", "opening_year", "accident",
    "accident_year", "protected_area", "backward_class", "banned_method", "standards_failed",
    "loss_making", "subsidised_loss", "relocatable", "indicator_eligible", "exit_years",
    "coal_kgce_per_t", "power_kwh_per_t", "nox_mg_m3", "dust_mg_m3", "waste_heat",
    "source", "source_ref",
]
PROJECT_COLUMNS = [
    "project_id", "name", "name_zh", "sector", "product", "capacity", "year", "opening_year",
    "firm", "group", "region", "region_zh", "status",
    "coal_kgce_per_t", "power_kwh_per_t", "nox_mg_m3", "dust_mg_m3", "waste_heat",
    "source", "source_ref",
]
KIND_PRODUCT = {
    "coal_mine": "coal", "blast_furnace": "pig_iron", "converter": "crude_steel",
    "rolling_mill": "rolled_steel", "clinker_line": "clinker", "grinding_station": "cement",
}
BOOL_COLUMNS = [
    "protected_area", "backward_class", "banned_method", "loss_making", "relocatable",
    "indicator_eligible",
]

INVENTORY_YEAR = 2015   # plan §II.1-3: capacity "截至2015年底" (at end-2015)
PLAN_LAST_YEAR = 2020   # end of the 13th Five-Year Plan, last year a project can come on line
COUNTS_IN = "Gansu"     # all units count toward Gansu's targets (JISCO is a Gansu provincial firm)

# Gansu prefectures as GCMT spells them -> normalised English names.
REGION_FIXES = {"Qignyang": "Qingyang", "Pingliang City": "Pingliang"}
GANSU_PREFECTURES = (
    "Lanzhou", "Jiayuguan", "Jinchang", "Baiyin", "Tianshui", "Wuwei", "Zhangye",
    "Pingliang", "Jiuquan", "Qingyang", "Dingxi", "Longnan", "Linxia", "Gannan",
)
# The Chinese name of every region of the tables (column region_zh), as the plan and the
# province's statistics write them.
REGION_ZH = {
    "Lanzhou": "兰州市", "Jiayuguan": "嘉峪关市", "Jinchang": "金昌市", "Baiyin": "白银市",
    "Tianshui": "天水市", "Wuwei": "武威市", "Zhangye": "张掖市", "Pingliang": "平凉市",
    "Jiuquan": "酒泉市", "Qingyang": "庆阳市", "Dingxi": "定西市", "Longnan": "陇南市",
    "Linxia": "临夏回族自治州", "Gannan": "甘南藏族自治州", "Yicheng, Shanxi": "山西省翼城县",
}

# --------------------------------------------------------------------------------------------
# Coal calibration (plan §II.1 unless stated otherwise)
# --------------------------------------------------------------------------------------------

COAL_MINES = 154                 # plan §II.1: 154 mines at end-2015
COAL_CAPACITY = 6560.0           # plan §II.1: 6,560 万吨/yr
COAL_LARGE_MIN = 120.0           # plan §II.1: size class "120万吨以上"
COAL_SMALL_MAX = 30.0            # plan §II.1: size class "30万吨以下"
COAL_CLASS_COUNTS = {"large": 22, "medium": 38, "small": 94}   # plan §II.1

MT_TO_WAN_T = 100.0              # 1 Mt = 100 万吨 (GCMT publishes Mtpa)

# Synthetic mines that complete the GCMT stock (4 large, 32 medium, 94 small given 24 real
# mines: 18 large, 6 medium). Large ones are modest (120-150) because the real mines already
# hold about 4,204 of the 6,560; medium ones mostly 30-60; small ones in the standard Chinese
# small-mine classes (3, 6, 9, 15, 21 万吨/yr). The last small mine takes the remainder.
SYNTH_LARGE_MINES = (("Pingliang", 150.0), ("Qingyang", 130.0), ("Baiyin", 120.0),
                     ("Wuwei", 120.0))
SYNTH_MEDIUM_MIX = {60.0: 4, 45.0: 6, 30.0: 22}
SYNTH_SMALL_MIX = {3.0: 31, 6.0: 29, 9.0: 22, 15.0: 8, 21.0: 4}

# Where Gansu's coal is (Longdong: Pingliang/Qingyang; Jingyuan/Jingtai: Baiyin; Yaojie:
# Lanzhou; Hexi corridor: Wuwei, Zhangye, Jiuquan; a few small pits in Tianshui/Longnan).
COAL_PREFECTURE_WEIGHTS = {
    "Pingliang": 0.20, "Qingyang": 0.10, "Baiyin": 0.15, "Lanzhou": 0.12, "Wuwei": 0.13,
    "Zhangye": 0.14, "Jiuquan": 0.12, "Tianshui": 0.02, "Longnan": 0.02,
}

# Workers per 万吨/yr. Large: the 18 large GCMT mines of the stock have a median of 7.7 (all
# together 7.9) [GCMT]. Small: 1.3 million coal workers to resettle for about 50,000 万吨/yr of
# exits is 26 per 万吨 on average [MOHRSS 2016, State Council 2016]; 15-30 assumed around it.
# Medium: assumed in between (the 6 medium GCMT mines, median 6.9, are too few to go by).
COAL_WORKERS_PER_CAP = {"large": (6.0, 8.0), "medium": (10.0, 14.0), "small": (15.0, 30.0)}
COAL_STATE_SHARE = {"large": 1.0, "medium": 0.5, "small": 0.15}
COAL_OPENING_YEARS = {"large": (2003, 2012), "medium": (1980, 2012), "small": (1975, 2012)}

# Facts that trigger mandatory exits under plan §II.1.(2). Synthetic, but plausible:
# Gansu's 2018 exits include 9 mines in the Qilian Mountains national nature reserve
# [Xinhua 2018].
PROTECTED_PREFECTURES = ("Zhangye", "Wuwei", "Jiuquan")   # Qilian Mountains reserve
N_PROTECTED = {"medium": 3, "small": 7}
N_BACKWARD = 8                   # national "13 classes" of backward small mines
BACKWARD_MAX_CAP = 9.0           # backward mines drawn from the 3-9 万吨 classes
N_MAJOR_ACCIDENT = 3             # < 30 万吨 with a major (重大) accident, 2014-2015
N_LARGE_ACCIDENT = 3             # <= 15 万吨 with a large (较大) accident, 2013-2015
LARGE_ACCIDENT_MAX_CAP = 15.0    # plan §II.1.(2): "15万吨/年及以下"
N_BANNED_METHOD = 4              # banned mining method, cannot be upgraded
N_GENERAL_ACCIDENT = 8           # general (一般) accidents: recorded, trigger nothing
ACCIDENT_YEARS = (2013, 2015)    # "last 3 years" before the end-2015 inventory

SMALL_LOSS_SHARE = 0.30          # about 30 % of small mines run at a loss
SMALL_LOSS_RANGE = (50, 300)     # 万元/yr the province pays while a loss-making mine runs
N_MEDIUM_LOSS = 3
MEDIUM_LOSS_RANGE = (150, 400)
N_SMALL_STANDARDS_FAILED = 12
COAL_STANDARDS_CHOICES = ("safety", "environment", "environment;safety")
COAL_EXIT_WINDOWS = ("2018-2020", "2019;2020")   # two medium mines in merger consolidation

# --------------------------------------------------------------------------------------------
# Steel calibration (plan §II.2)
# --------------------------------------------------------------------------------------------

STEEL_FIRMS = 9                  # plan §II.2: 9 steel firms
PIG_IRON_CAPACITY = 1220.0       # plan §II.2
CRUDE_STEEL_CAPACITY = 1475.0    # plan §II.2
ROLLED_STEEL_CAPACITY = 1560.0   # plan §II.2
# plan §II.2.(2): the package (iron 200, steel 300) is 18.2 % / 21.7 % of JISCO's capacity
# (printed "182%、217%", the decimal point lost),
# so JISCO holds about 200 / 0.182 ≈ 1,100 iron and 300 / 0.217 ≈ 1,380 crude steel.
JISCO_PIG_IRON = 1100.0
JISCO_CRUDE_STEEL = 1380.0
JISCO_GROUP = "JISCO"

# Steel workers per 万吨/yr of each unit's product. JISCO overall lands at ≈36 per 万吨 of
# crude steel, inside the national 33-50: 0.5 million steel workers to resettle for 10,000-
# 15,000 万吨 of crude steel cuts [MOHRSS 2016, State Council 2016]. The small synthetic firms
# are less productive.
STEEL_WORKERS_PER_CAP = {
    "jisco": {"blast_furnace": 15.0, "converter": 12.0, "rolling_mill": 12.0},
    "other": {"blast_furnace": 18.0, "converter": 15.0, "rolling_mill": 15.0},
}

# One row per unit: (unit_id, kind, spec, capacity, name, name_zh, source, source_ref, facts)
PLAN_22 = "plan §II.2.(2)"
JISCO_PLANTS = (
    # Yigang (翼钢), JISCO's works in Yicheng, Shanxi: retire all facilities, plan §II.2.(2).
    {
        "firm": "JISCO Yigang", "region": "Yicheng, Shanxi", "source": "plan",
        "units": (
            ("JISCO-YIG-BF1", "blast_furnace", "420 m3", 50.0, "Yigang No.1 blast furnace",
             "酒钢翼钢1号高炉", f"{PLAN_22}: 2 × 420 m3 BF, iron 100 in all"),
            ("JISCO-YIG-BF2", "blast_furnace", "420 m3", 50.0, "Yigang No.2 blast furnace",
             "酒钢翼钢2号高炉", f"{PLAN_22}: 2 × 420 m3 BF, iron 100 in all"),
            ("JISCO-YIG-CV1", "converter", "50 t", 100.0, "Yigang No.1 converter",
             "酒钢翼钢1号转炉", f"{PLAN_22}: 2 × 50 t converters, steel 200 in all"),
            ("JISCO-YIG-CV2", "converter", "50 t", 100.0, "Yigang No.2 converter",
             "酒钢翼钢2号转炉", f"{PLAN_22}: 2 × 50 t converters, steel 200 in all"),
            ("JISCO-YIG-BAR", "rolling_mill", "bar mill", 150.0, "Yigang bar mill",
             "酒钢翼钢棒材生产线", f"{PLAN_22}: bar mill; capacity 150 assumed"),
        ),
    },
    # Yugang (榆钢) phase 1 in Yuzhong county, Lanzhou: retire, capacity to Jamaica (§II.2.(3)).
    {
        "firm": "JISCO Yugang", "region": "Lanzhou", "source": "plan", "relocatable": True,
        "units": (
            ("JISCO-YUG1-BF1", "blast_furnace", "420 m3", 50.0,
             "Yugang phase 1 No.1 blast furnace", "酒钢榆钢一期1号高炉",
             f"{PLAN_22}: 2 × 420 m3 BF, iron 100 in all; relocation to Jamaica §II.2.(3)"),
            ("JISCO-YUG1-BF2", "blast_furnace", "420 m3", 50.0,
             "Yugang phase 1 No.2 blast furnace", "酒钢榆钢一期2号高炉",
             f"{PLAN_22}: 2 × 420 m3 BF, iron 100 in all; relocation to Jamaica §II.2.(3)"),
            ("JISCO-YUG1-CV1", "converter", "40 t", 50.0, "Yugang phase 1 No.1 converter",
             "酒钢榆钢一期1号转炉",
             f"{PLAN_22}: 2 × 40 t converters, steel 100 in all; relocation to Jamaica §II.2.(3)"),
            ("JISCO-YUG1-CV2", "converter", "40 t", 50.0, "Yugang phase 1 No.2 converter",
             "酒钢榆钢一期2号转炉",
             f"{PLAN_22}: 2 × 40 t converters, steel 100 in all; relocation to Jamaica §II.2.(3)"),
        ),
    },
    # Yugang phase 2: kept and upgraded (§II.2.(2)). Public: JISCO Yuzhong BF-BOF ≈ 400 万吨
    # with phase 1 (Global Steel Plant Tracker, CC BY 4.0), so phase 2 ≈ 300 iron / 300 steel.
    {
        "firm": "JISCO Yugang", "region": "Lanzhou", "source": "synthetic",
        "units": (
            ("JISCO-YUG2-BF1", "blast_furnace", "1800 m3", 150.0,
             "Yugang phase 2 No.1 blast furnace", "酒钢榆钢二期1号高炉",
             "synthetic: phase 2 kept (plan §II.2.(2)); Yuzhong BF-BOF ≈ 400 with phase 1 (GSPT)"),
            ("JISCO-YUG2-BF2", "blast_furnace", "1800 m3", 150.0,
             "Yugang phase 2 No.2 blast furnace", "酒钢榆钢二期2号高炉",
             "synthetic: phase 2 kept (plan §II.2.(2)); Yuzhong BF-BOF ≈ 400 with phase 1 (GSPT)"),
            ("JISCO-YUG2-CV1", "converter", "120 t", 150.0, "Yugang phase 2 No.1 converter",
             "酒钢榆钢二期1号转炉",
             "synthetic: phase 2 kept (plan §II.2.(2)); Yuzhong BF-BOF ≈ 400 with phase 1 (GSPT)"),
            ("JISCO-YUG2-CV2", "converter", "120 t", 150.0, "Yugang phase 2 No.2 converter",
             "酒钢榆钢二期2号转炉",
             "synthetic: phase 2 kept (plan §II.2.(2)); Yuzhong BF-BOF ≈ 400 with phase 1 (GSPT)"),
            ("JISCO-YUG2-BAR", "rolling_mill", "bar mill", 200.0, "Yugang phase 2 bar mill",
             "酒钢榆钢二期棒材生产线", "synthetic: rolling capacity of the kept phase 2"),
            ("JISCO-YUG2-WIRE", "rolling_mill", "wire rod mill", 150.0,
             "Yugang phase 2 wire rod mill", "酒钢榆钢二期高线生产线",
             "synthetic: rolling capacity of the kept phase 2"),
        ),
    },
    # Jiayuguan works: the balance of JISCO's iron and steel. Public: BF-BOF ≈ 325 plus EAF
    # ≈ 325 万吨 steel (GSPT); the remaining 130 is put in the stainless-steel shop. All
    # steelmaking is modelled as kind=converter.
    {
        "firm": "JISCO Jiayuguan", "region": "Jiayuguan", "source": "synthetic",
        "units": (
            ("JISCO-JYG-BF1", "blast_furnace", "2500 m3", 200.0,
             "Jiayuguan No.1 blast furnace", "酒钢嘉峪关本部1号高炉",
             "synthetic: balance of JISCO iron ≈ 1,100 (plan §II.2.(2) 18.2 %)"),
            ("JISCO-JYG-BF2", "blast_furnace", "1800 m3", 150.0,
             "Jiayuguan No.2 blast furnace", "酒钢嘉峪关本部2号高炉",
             "synthetic: balance of JISCO iron ≈ 1,100 (plan §II.2.(2) 18.2 %)"),
            ("JISCO-JYG-BF3", "blast_furnace", "1800 m3", 150.0,
             "Jiayuguan No.3 blast furnace", "酒钢嘉峪关本部3号高炉",
             "synthetic: balance of JISCO iron ≈ 1,100 (plan §II.2.(2) 18.2 %)"),
            ("JISCO-JYG-BF4", "blast_furnace", "1000 m3", 100.0,
             "Jiayuguan No.4 blast furnace", "酒钢嘉峪关本部4号高炉",
             "synthetic: balance of JISCO iron ≈ 1,100 (plan §II.2.(2) 18.2 %)"),
            ("JISCO-JYG-CV1", "converter", "120 t", 162.5, "Jiayuguan No.1 converter",
             "酒钢嘉峪关本部1号转炉", "synthetic: BF-BOF ≈ 325 at Jiayuguan (GSPT)"),
            ("JISCO-JYG-CV2", "converter", "120 t", 162.5, "Jiayuguan No.2 converter",
             "酒钢嘉峪关本部2号转炉", "synthetic: BF-BOF ≈ 325 at Jiayuguan (GSPT)"),
            ("JISCO-JYG-CV3", "converter", "100 t EAF", 162.5,
             "Jiayuguan No.1 electric arc furnace", "酒钢嘉峪关本部1号电炉",
             "synthetic: EAF (modelled as converter); EAF ≈ 325 at Jiayuguan (GSPT)"),
            ("JISCO-JYG-CV4", "converter", "100 t EAF", 162.5,
             "Jiayuguan No.2 electric arc furnace", "酒钢嘉峪关本部2号电炉",
             "synthetic: EAF (modelled as converter); EAF ≈ 325 at Jiayuguan (GSPT)"),
            ("JISCO-JYG-CV5", "converter", "90 t AOD", 130.0,
             "Jiayuguan stainless steelmaking shop", "酒钢嘉峪关不锈钢炼钢",
             "synthetic: balance of JISCO steel ≈ 1,380 (plan §II.2.(2) 21.7 %)"),
            ("JISCO-JYG-HSM", "rolling_mill", "hot strip mill", 400.0,
             "Jiayuguan hot strip mill", "酒钢嘉峪关热轧带钢生产线",
             "synthetic: balance of rolled steel 1,560 (plan §II.2)"),
            ("JISCO-JYG-PLT", "rolling_mill", "medium plate mill", 150.0,
             "Jiayuguan plate mill", "酒钢嘉峪关中板生产线",
             "synthetic: balance of rolled steel 1,560 (plan §II.2)"),
            ("JISCO-JYG-WIRE", "rolling_mill", "wire rod mill", 130.0,
             "Jiayuguan wire rod mill", "酒钢嘉峪关高线生产线",
             "synthetic: balance of rolled steel 1,560 (plan §II.2)"),
            ("JISCO-JYG-BAR", "rolling_mill", "bar mill", 130.0, "Jiayuguan bar mill",
             "酒钢嘉峪关棒材生产线", "synthetic: balance of rolled steel 1,560 (plan §II.2)"),
            ("JISCO-JYG-SCR", "rolling_mill", "stainless cold rolling mill", 130.0,
             "Jiayuguan stainless cold rolling mill", "酒钢嘉峪关不锈钢冷轧生产线",
             "synthetic: balance of rolled steel 1,560 (plan §II.2)"),
        ),
    },
)

# The other (synthetic) steel firms: the remaining 120 iron, 95 steel and 120 rolled steel in
# small units. 9 firms in all = 3 JISCO firms + 6 here. Backward equipment under national rules:
# blast furnaces of 400 m3 or less and converters of 30 t or less.
BACKWARD_BF_MAX_M3 = 400
BACKWARD_CONVERTER_MAX_T = 30
OTHER_STEEL_FIRMS = (
    # (code, region, owner, firm's loss 万元/yr (0 = none; split evenly over its units),
    #  standards failed, units as (id suffix, kind, m3 / t / mill type, capacity))
    ("S02", "Lanzhou", "private", 0, "",
     (("BF1", "blast_furnace", 450, 45.0), ("CV1", "converter", 40, 45.0),
      ("BAR", "rolling_mill", "bar mill", 45.0))),
    ("S03", "Baiyin", "private", 600, "environment",
     (("BF1", "blast_furnace", 380, 35.0), ("CV1", "converter", 20, 20.0))),
    ("S04", "Tianshui", "state", 0, "",
     (("SEC", "rolling_mill", "section mill", 30.0),)),
    ("S05", "Jiuquan", "private", 450, "energy;environment",
     (("BF1", "blast_furnace", 400, 40.0), ("CV1", "converter", 30, 30.0))),
    ("S06", "Jiayuguan", "private", 0, "",
     (("CRM", "rolling_mill", "cold rolling mill", 25.0),)),
    ("S07", "Lanzhou", "private", 0, "",
     (("WIRE", "rolling_mill", "wire rod mill", 20.0),)),
)
OTHER_STEEL_OPENING_YEARS = (1995, 2010)

# --------------------------------------------------------------------------------------------
# Cement calibration (plan §II.3)
# --------------------------------------------------------------------------------------------

CEMENT_FIRMS = 61                # plan §II.3: 61 cement firms
CLINKER_LINES = 52               # plan §II.3: 52 clinker lines
CLINKER_CAPACITY = 4100.0        # plan §II.3: 4,100 万吨 clinker
CEMENT_CAPACITY = 5500.0         # plan §II.3: 5,500 万吨 cement
KILN_DAYS = 310                  # operating days/yr: capacity = t/d × 310 / 10,000 万吨
LINE_CAP_RANGE = (31.0, 155.0)   # 1,000-5,000 t/d lines
TOP10_SHARE_RANGE = (0.70, 0.75)     # plan §II.3: concentration "> 70 %" now
QILIANSHAN_SHARE_RANGE = (0.41, 0.45)  # trade press: Qilianshan ≈ 43 % of Gansu (c. 2017)
QILIANSHAN_GROUP = "Qilianshan Cement"

# Workers: no public figure per 万吨 of cement capacity was found. Assumed 2.0-2.5 per 万吨
# clinker for kiln lines and 0.5 per 万吨 cement for grinding stations.
LINE_WORKERS_PER_CAP = (2.0, 2.5)
GRINDING_WORKERS_PER_CAP = 0.5
# Cement ground per unit of clinker at an integrated plant (Gansu: 5,500 / 4,100 ≈ 1.34 overall;
# the rest is ground at grinding-only stations).
GRIND_RATIO_QILIANSHAN = 1.30
GRIND_RATIO_OTHER = 1.15
GRINDING_ONLY_SIZES = (20.0, 30.0, 40.0)

# Qilianshan Cement (中材祁连山): real group; firms named by place, line set-up synthetic.
# (place, Chinese place, prefecture, clinker lines in t/d; empty = grinding only)
QILIANSHAN_PLANTS = (
    ("Yongdeng", "永登", "Lanzhou", (5000, 2500)),
    ("Honggu", "红古", "Lanzhou", (4000,)),
    ("Gulang", "古浪", "Wuwei", (5000, 2000)),
    ("Zhangye", "张掖", "Zhangye", (4000, 2500)),
    ("Pingliang", "平凉", "Pingliang", (5000,)),
    ("Tianshui", "天水", "Tianshui", (4000,)),
    ("Gangu", "甘谷", "Tianshui", (2500, 2000)),
    ("Zhangxian", "漳县", "Dingxi", (5000,)),
    ("Chengxian", "成县", "Longnan", (4000,)),
    ("Longnan", "陇南", "Longnan", (5000, 2500)),
    ("Linxia", "临夏", "Linxia", (2000,)),
    ("Jinchang", "金昌", "Jinchang", ()),
)
# plan §II.3.(7): Qilianshan to build lines in Central and West Asia -> two small lines may
# exit by relocation, from 2018 on (time to prepare the sites abroad).
QILIANSHAN_RELOCATABLE = (("Gulang", 2), ("Gangu", 2))
RELOCATION_WINDOW = "2018-2020"

# Groups 2-10 by clinker capacity (synthetic): each firm as (prefecture, lines in t/d).
TOP_GROUPS = (
    (("Baiyin", (4500,)), ("Jiuquan", (2500,)), ("Jiuquan", ())),
    (("Jiayuguan", (4000, 2000)),),
    (("Pingliang", (3000,)), ("Tianshui", (2500,))),
    (("Qingyang", (2500, 2500)), ("Qingyang", ())),
    (("Wuwei", (4000,)),),
    (("Lanzhou", (2500, 1200)),),
    (("Dingxi", (3000,)),),
    (("Linxia", (2500,)),),
    (("Baiyin", (2500,)),),
)
# Single-line firms outside the top 10 (what makes the 85 % target of 2020 bite). The last one
# is tuned so that clinker capacity totals exactly 4,100.
INDEPENDENT_LINES_TPD = (2000,) * 10 + (1500,) * 6 + (1200,) * 3 + (1000,) * 2
N_GRINDING_ONLY_INDEPENDENT = 14
CEMENT_PREFECTURE_WEIGHTS = {
    "Lanzhou": 0.12, "Baiyin": 0.08, "Tianshui": 0.10, "Wuwei": 0.07, "Zhangye": 0.07,
    "Pingliang": 0.08, "Jiuquan": 0.07, "Qingyang": 0.08, "Dingxi": 0.08, "Longnan": 0.08,
    "Linxia": 0.07, "Gannan": 0.04, "Jinchang": 0.03, "Jiayuguan": 0.03,
}
# plan §II.3.(8): small single lines failing energy / emission standards are pushed out.
N_LINES_STANDARDS_FAILED = 5
N_LINES_LOSS_MAKING = 4          # 3 of them also fail standards (zombies)
LINE_LOSS_RANGE = (100, 400)
SMALL_LINE_MAX_TPD = 2000
CEMENT_STANDARDS_CHOICES = ("energy", "environment", "energy;environment")
# plan §II.3: new-dry-process share > 98 % -> one 1,000 t/d line (0.8 %) is of an old type.
N_OLD_TYPE_LINES = 1

# The announced clinker line the plan lets through (§II.3.(3): "除已公告的在建项目外").
ANNOUNCED_LINE_TPD = 5000
ANNOUNCED_LINE_YEAR = 2018
ANNOUNCED_LINE_FIRM = "Qilianshan Cement Zhangxian"
ANNOUNCED_LINE_REGION = "Dingxi"

# Clinker-line efficiency and emissions (plan §II.3.(4) sets the 2020 targets: comparable clinker
# coal use ≤ 105 kgce/t and power ≤ 60 kWh/t on average, NOx and dust −5 %, waste-heat power on
# ≥ 80 % of lines). No line-level figure is public; the plan gives no 2015 figure either. The
# 2015 fleet averages below are ASSUMPTIONS, stated so that each 2020 target asks for a cut:
# coal and power a little above the targets, NOx and dust under the national limits for existing
# kilns (GB 4915-2013: NOx 400, particulates 30 mg/m³), waste-heat power on 38 of the 52 lines.
# Line values are drawn from a separate stream (the other columns keep their draws) by kiln size,
# age and the standards a line fails, then shifted so that the capacity-weighted average of the
# 52 lines is the figure below (to rounding, ±0.05).
EFFICIENCY_SEED = 2015
FLEET_2015 = {                     # capacity-weighted average over the 52 lines, end-2015
    "coal_kgce_per_t": 106.0,      # ASSUMPTION: 1 above the 2020 target of 105
    "power_kwh_per_t": 61.0,       # ASSUMPTION: 1 above the 2020 target of 60
    "nox_mg_m3": 360.0,            # ASSUMPTION: under the 400 mg/m³ limit of GB 4915-2013
    "dust_mg_m3": 24.0,            # ASSUMPTION: under the 30 mg/m³ limit of GB 4915-2013
}
WASTE_HEAT_LINES = 38              # ASSUMPTION: 73 % of lines; the plan's 2020 target is ≥ 80 %
# (per-t/d slope, spread of the noise, extra for a line failing the energy / environment standard)
EFFICIENCY_DRAWS = {
    "coal_kgce_per_t": (-0.0025, 2.0, 8.0, 0.0),
    "power_kwh_per_t": (-0.0015, 1.5, 5.0, 0.0),
    "nox_mg_m3": (-0.008, 25.0, 0.0, 60.0),
    "dust_mg_m3": (-0.0012, 3.0, 0.0, 8.0),
}
# the announced 5,000 t/d line (a new line is built to the best figures): ASSUMPTION
ANNOUNCED_LINE_EFFICIENCY = {"coal_kgce_per_t": 100.0, "power_kwh_per_t": 55.0, "nox_mg_m3": 300.0,
                             "dust_mg_m3": 15.0, "waste_heat": 1}


# --------------------------------------------------------------------------------------------
# Random draws
# --------------------------------------------------------------------------------------------


class Draws:
    """The build's random draws, made from PCG64's raw 64-bit stream alone.

    numpy keeps the raw output of its bit generators stable across versions, PCG64 seeded
    through SeedSequence included (NEP 19), but not the streams of ``Generator``'s methods.
    The tables were first drawn with ``numpy.random.default_rng(2016)``. This class makes,
    from ``numpy.random.PCG64(seed).random_raw()`` alone, exactly the draws that
    ``default_rng(seed)`` makes (numpy 2.4) for the calls the build uses:

    - ``random()``: ``(raw >> 11) * 2**-53``;
    - ``uniform(low, high)``: ``low + (high - low) * random()``, rounded after each step;
    - ``integers(low, high, endpoint=False)``: Lemire's bounded method on the inclusive
      range ``rng = high - low (- 1)``. Below ``2**32 - 1`` it works on 32-bit draws: each
      raw draw is split into its low half, used first, and its high half, kept for the next
      32-bit draw (PCG64's ``next_uint32``); the half is kept across calls, and 64-bit draws
      (``random``) do not touch it;
    - ``choice(a, size)``: with replacement and no ``p``, ``integers(0, len(a))`` per item;
      with ``p``, ``random()`` per item, looked up (bisect right) in the running sum of ``p``
      divided by its last value; without replacement (no ``p``), Floyd's algorithm (for ``j``
      from ``n - size`` to ``n - 1`` draw ``t`` in ``[0, j]``, take ``j`` instead if ``t`` is
      already taken), then a Fisher-Yates shuffle of the sample (for ``i`` from ``size - 1``
      down to 1, swap item ``i`` with an item drawn in ``[0, i]``); but when ``n > 10,000`` and
      ``size > n // 50``, the last ``size`` items of ``range(n)`` after the same shuffle run
      from ``i = n - 1`` down to ``max(n - size, 1)``.

    ``tests/test_inventory.py`` checks these draws against numpy's ``Generator``.
    """

    MASK32 = 0xFFFF_FFFF
    MASK64 = 0xFFFF_FFFF_FFFF_FFFF

    def __init__(self, seed: int):
        self._bits = np.random.PCG64(seed)
        self._half: int | None = None   # high half of a raw draw, for the next 32-bit draw

    def _next64(self) -> int:
        return int(self._bits.random_raw())

    def _next32(self) -> int:
        if self._half is not None:
            half, self._half = self._half, None
            return half
        raw = self._next64()
        self._half = raw >> 32
        return raw & self.MASK32

    def _bounded(self, rng: int) -> int:
        """An integer in [0, rng] (inclusive), by Lemire's method."""
        if rng == 0:
            return 0
        if rng == self.MASK32:
            return self._next32()
        if rng == self.MASK64:
            return self._next64()
        bits, mask, draw = (32, self.MASK32, self._next32) if rng < self.MASK32 else (
            64, self.MASK64, self._next64)
        excl = rng + 1
        m = draw() * excl
        if m & mask < excl:
            threshold = (mask - rng) % excl
            while m & mask < threshold:
                m = draw() * excl
        return m >> bits

    def _double(self) -> float:
        return (self._next64() >> 11) * (1.0 / 9007199254740992.0)

    def random(self) -> float:
        return self._double()

    def uniform(self, low: float, high: float) -> float:
        low, high = float(low), float(high)
        return low + (high - low) * self._double()

    def integers(self, low: int, high: int, endpoint: bool = False) -> int:
        rng = high - low - (0 if endpoint else 1)
        if rng < 0:
            raise ValueError("low > high" if endpoint else "low >= high")
        if rng > self.MASK64:
            raise ValueError("range too wide")
        return low + self._bounded(rng)

    def choice(self, a, size: int | None = None, replace: bool = True, p=None):
        """One item of `a` (size None) or a list of `size` items; an int `a` means range(a)."""
        items = range(a) if isinstance(a, int) else list(a)
        n, k = len(items), 1 if size is None else size
        if p is not None:
            p = [float(x) for x in p]
            if len(p) != n or min(p) < 0 or abs(math.fsum(p) - 1.0) > 2.0 ** -26:
                raise ValueError("p must be n non-negative probabilities summing to 1")
        if replace and p is None:
            idx = [self._bounded(n - 1) for _ in range(k)]
        elif replace:
            cdf = list(itertools.accumulate(p))
            cdf = [c / cdf[-1] for c in cdf]
            idx = [bisect.bisect_right(cdf, self._double()) for _ in range(k)]
        elif p is not None:
            raise NotImplementedError("choice without replacement and with p")
        elif k > n:
            raise ValueError("cannot take a larger sample than the population")
        elif n > 10_000 and k > n // 50:
            idx = list(range(n))
            for i in range(n - 1, max(n - k, 1) - 1, -1):
                j = self._bounded(i)
                idx[i], idx[j] = idx[j], idx[i]
            idx = idx[n - k:]
        else:
            idx, taken = [], set()
            for j in range(n - k, n):
                t = self._bounded(j)
                t = j if t in taken else t
                taken.add(t)
                idx.append(t)
            for i in range(k - 1, 0, -1):
                j = self._bounded(i)
                idx[i], idx[j] = idx[j], idx[i]
        out = [items[i] for i in idx]
        return out[0] if size is None else out


# --------------------------------------------------------------------------------------------
# Utilities
# --------------------------------------------------------------------------------------------


def clinker_capacity(tpd: float) -> float:
    """万吨/yr of clinker of a line of `tpd` tonnes per day running KILN_DAYS days."""
    return round(tpd * KILN_DAYS / 10_000, 1)


def unit_row(**values) -> dict:
    """A unit row with the defaults of a fact-free unit counted in Gansu."""
    row = {
        "name_zh": "", "spec": "", "counts_in": COUNTS_IN, "owner": "state",
        "opening_year": None, "accident": "none", "accident_year": None,
        "protected_area": False, "backward_class": False, "banned_method": False,
        "standards_failed": "", "loss_making": False, "subsidised_loss": 0,
        "relocatable": False, "indicator_eligible": True, "exit_years": "",
    }
    row.update(values)
    if row.get("group") in (None, ""):
        row["group"] = row["firm"]
    return row


def pick(rng: Draws, pool: list[int], n: int) -> list[int]:
    """n distinct items of `pool` (sorted back into pool order)."""
    if n > len(pool):
        raise ValueError(f"cannot pick {n} from a pool of {len(pool)}")
    chosen = set(rng.choice(len(pool), size=n, replace=False))
    return [p for i, p in enumerate(pool) if i in chosen]


def weighted_choice(rng: Draws, weights: dict[str, float], n: int) -> list[str]:
    keys = list(weights)
    w = [float(weights[k]) for k in keys]
    total = math.fsum(w)
    return rng.choice(keys, size=n, p=[x / total for x in w])


def mark_ineligible(row: dict) -> None:
    """Backward and zombie (loss-making and failing standards) capacity yields no indicators."""
    zombie = row["loss_making"] and bool(row["standards_failed"])
    row["indicator_eligible"] = not (row["backward_class"] or zombie)


# --------------------------------------------------------------------------------------------
# GCMT
# --------------------------------------------------------------------------------------------


def read_gcmt() -> pd.DataFrame:
    """Both GCMT extracts as text, with a parsed capacity (万吨/yr) and years."""
    frames = [pd.read_csv(SOURCES / name, dtype=str, keep_default_na=False) for name in GCMT_FILES]
    df = pd.concat(frames, ignore_index=True).fillna("")
    df["cap"] = (df["Capacity (Mtpa)"].str.replace(",", ".", regex=False).astype(float)
                 * MT_TO_WAN_T).round(1)
    for col in ("Opening Year", "Closing Year"):
        df[col + " n"] = pd.to_numeric(df[col], errors="coerce")
    df["region"] = df["Prefecture, District"].map(lambda r: REGION_FIXES.get(r, r))
    return df


def gcmt_in_stock(df: pd.DataFrame) -> pd.Series:
    """Mines operating at end-2015: opened by 2015 and not closed before 2016."""
    opened = df["Opening Year n"] <= INVENTORY_YEAR
    open_at_end = df["Closing Year n"].isna() | (df["Closing Year n"] > INVENTORY_YEAR)
    return opened & open_at_end


def gcmt_is_project(df: pd.DataFrame) -> pd.Series:
    """Mines that came on line after 2015 or are proposed."""
    late = (df["Status"] == "Operating") & (df["Opening Year n"] > INVENTORY_YEAR)
    return late | (df["Status"] == "Proposed")


# The English owner field of three Jingyuan mines names Huating; their Chinese names say
# 甘肃靖远煤电股份有限责任公司, which is followed here.
JINGYUAN_FIRM = "Gansu Jingyuan Coal and Electricity Company"
# Chinese name GCMT lacks (closed-mines extract).
NAME_ZH_SUPPLIED = {"M2057": "马蹄沟煤矿"}
# Owner type of real mines: the big provincial groups and Huaneng are state-owned; the
# county-level mines are assumed private; the two large Hexi mines are assumed state.
STATE_GROUPS = ("Huating Coal Group", "Jingyuan Coal Group (Jingmei)", "Yaojie Coal Group",
                "China Huaneng")
ASSUMED_OWNER = {"M4790": "state", "M1952": "state", "M4792": "state",
                 "M4791": "private", "M5134": "private", "M5135": "private"}


# Mines that public reports name among Gansu's realised coal exits (see data/gansu/README.md,
# "Realised exits 2016-2018"). None is in the GCMT extracts. Each takes the place of a
# fact-free synthetic mine of its size class, whose workforce it keeps (the reports give none)
# and, where the reports do not say, its prefecture; the capacity is the reported one, and the
# remainder mine gives up the difference so that the coal total stays 6,560.0.
PRESS_2017 = "Xinhua, Dec 2017: 2017 coal exits in Gansu (reporter 连振祥)"
PRESS_MINES = (
    {"replaces": "COAL-S006", "unit_id": "COAL-HONGHUI4", "name": "Honghui No. 4 Coal Mine",
     "name_zh": "靖远煤电股份公司红会第四煤矿", "capacity": 60.0, "firm": JINGYUAN_FIRM,
     "group": "Jingyuan Coal Group (Jingmei)", "region": "Baiyin", "owner": "state",
     "note": "prefecture as the Honghui mines of GCMT (Baiyin)"},
    {"replaces": "COAL-S005", "unit_id": "COAL-CHANGSHANZI", "name": "Changshanzi Coal Mine",
     "name_zh": "窑街煤电集团山丹县长山子煤矿公司", "capacity": 63.0,
     "firm": "Yaojie Coal Group Shandan Changshanzi Coal Mine Company",
     "group": "Yaojie Coal Group", "region": "Zhangye", "owner": "state",
     "note": "Shandan county is in Zhangye"},
    {"replaces": "COAL-S012", "unit_id": "COAL-KAITUO", "name": "Kaituo Mining Company mine",
     "name_zh": "开拓矿业有限责任公司", "capacity": 45.0, "firm": "Kaituo Mining Company",
     "group": "", "region": None, "owner": "state",
     "note": "prefecture not reported, kept from the synthetic mine replaced; owner assumed state"},
    {"replaces": "COAL-S116", "unit_id": "COAL-SHUIMOGOU", "name": "Jiutiaoling Shuimogou Shaft",
     "name_zh": "九条岭煤业公司水磨沟井", "capacity": 9.0, "firm": "Jiutiaoling Coal Company",
     "group": "", "region": "Wuwei", "owner": "state",
     "note": "prefecture assumed (Jiutiaoling, Tianzhu county, Wuwei); owner assumed state"},
)
REMAINDER_MINE = "COAL-S130"     # the synthetic small mine that takes the coal remainder


def name_press_mines(coal: list[dict]) -> None:
    """Put the reported mines of PRESS_MINES in the place of the synthetic mines they replace."""
    at = {r["unit_id"]: i for i, r in enumerate(coal)}
    delta = 0.0
    for m in PRESS_MINES:
        old = coal[at[m["replaces"]]]
        facts = ("protected_area", "backward_class", "banned_method", "loss_making")
        if old["source"] != "synthetic" or old["accident"] != "none" or any(old[f] for f in facts) \
                or old["standards_failed"] or old["exit_years"] \
                or size_class(old["capacity"]) != size_class(m["capacity"]):
            raise ValueError(f"{m['replaces']} is not a fact-free synthetic mine of the size of "
                             f"{m['unit_id']}")
        delta += m["capacity"] - old["capacity"]
        values = {k: v for k, v in m.items() if k not in ("replaces", "note")}
        values["region"] = m["region"] or old["region"]
        values["group"] = m["group"] or m["firm"]
        values["source_ref"] = (f"{PRESS_2017}; capacity as reported; exited 2017; {m['note']}; "
                                f"workforce not reported, kept from {m['replaces']}")
        old.update(values, opening_year=None, source="press")
    rest = coal[at[REMAINDER_MINE]]
    rest["capacity"] = round(rest["capacity"] - delta, 1)
    if size_class(rest["capacity"]) != "small" or rest["capacity"] <= 0:
        raise ValueError(f"remainder mine of {rest['capacity']} 万吨 is not a small mine")
    rest["source_ref"] = (f"synthetic: small-mine remainder {rest['capacity']:g} 万吨 "
                          f"(workforce drawn for {rest['capacity'] + delta:g})")


def gcmt_firm(r: pd.Series) -> str:
    zh = r["Mine Name (Non-ENG)"]
    if "靖远煤电" in zh and "Jingyuan" not in r["Owners"]:
        return JINGYUAN_FIRM
    if r["Owners"]:
        return r["Owners"]
    return f"Unknown owner ({r['GEM Mine ID']})"


def gcmt_group(r: pd.Series, firm: str) -> str:
    """A normalised end-2015 parent group (GCMT's parent is today's, where given)."""
    text = f"{firm} {r['Owners']} {r['Mine Name (Non-ENG)']}"
    rules = (
        (("靖远", "靖煤", "Jingmei", "Jingyuan"), "Jingyuan Coal Group (Jingmei)"),
        (("华亭", "Huating"), "Huating Coal Group"),
        (("窑街", "Yaojie"), "Yaojie Coal Group"),
        (("华能", "Huaneng"), "China Huaneng"),
        (("太西", "Taixi"), "Taixi Coal Group"),
    )
    for keys, group in rules:
        if any(k in text for k in keys):
            return group
    parent = r["Parent Company"].split(" [")[0].strip()
    return parent or firm


def gcmt_units(df: pd.DataFrame) -> list[dict]:
    rows = []
    for _, r in df[gcmt_in_stock(df)].iterrows():
        mid = r["GEM Mine ID"]
        firm = gcmt_firm(r)
        group = gcmt_group(r, firm)
        notes = [f"GEM {mid}", "capacity as published (may be re-rated after 2016)"]
        if firm == JINGYUAN_FIRM:
            notes.append("firm per Chinese name (GCMT owner field says Huating)")
        parent = r["Parent Company"].split(" [")[0].strip()
        if parent and parent not in (firm, group):
            notes.append(f"GCMT parent today: {parent}")
        if r["Workforce Size"]:
            workers = int(r["Workforce Size"])
            notes.append(f"workforce GCMT ({r['Workforce Accuracy'] or 'accuracy not given'})")
        else:
            workers = round(r["cap"] * np.mean(COAL_WORKERS_PER_CAP[size_class(r["cap"])]))
            notes.append("workforce synthetic by size class")
        owner = ASSUMED_OWNER.get(mid, "state" if group in STATE_GROUPS else "private")
        if mid in ASSUMED_OWNER:
            notes.append("owner type assumed")
        name_zh = r["Mine Name (Non-ENG)"] or NAME_ZH_SUPPLIED.get(mid, "")
        if mid in NAME_ZH_SUPPLIED:
            notes.append("Chinese name supplied (not in GCMT)")
        if r["Closing Year"]:
            notes.append(f"closed {r['Closing Year']}")
        rows.append(unit_row(
            unit_id=f"COAL-{mid}", name=r["Mine Name"], name_zh=name_zh, sector="coal",
            kind="coal_mine", product="coal", capacity=r["cap"], firm=firm, group=group,
            region=r["region"], workers=workers, owner=owner,
            opening_year=int(r["Opening Year n"]), source="gcmt", source_ref="; ".join(notes),
        ))
    return rows


def gcmt_projects(df: pd.DataFrame) -> list[dict]:
    rows = []
    for _, r in df[gcmt_is_project(df)].iterrows():
        mid = r["GEM Mine ID"]
        firm = gcmt_firm(r)
        opening = r["Opening Year n"]
        year = PLAN_LAST_YEAR if pd.isna(opening) else min(int(opening), PLAN_LAST_YEAR)
        status = r["Status"].lower()
        rows.append({
            "project_id": f"NEW-{mid}", "name": r["Mine Name"],
            "name_zh": r["Mine Name (Non-ENG)"], "sector": "coal", "product": "coal",
            "capacity": r["cap"], "year": year,
            "opening_year": None if pd.isna(opening) else int(opening),
            "firm": firm, "group": gcmt_group(r, firm), "region": r["region"],
            "status": "candidate", "source": "gcmt",
            "source_ref": f"GEM {mid}; GCMT status {status}; capacity as published",
        })
    return rows


# --------------------------------------------------------------------------------------------
# Coal
# --------------------------------------------------------------------------------------------


def size_class(cap: float) -> str:
    if cap >= COAL_LARGE_MIN:
        return "large"
    return "medium" if cap >= COAL_SMALL_MAX else "small"


def synthetic_mines(rng: Draws, real: list[dict]) -> list[dict]:
    have = {c: sum(size_class(r["capacity"]) == c for r in real) for c in COAL_CLASS_COUNTS}
    need = {c: COAL_CLASS_COUNTS[c] - have[c] for c in COAL_CLASS_COUNTS}
    medium = [cap for cap, n in SYNTH_MEDIUM_MIX.items() for _ in range(n)]
    small = [cap for cap, n in SYNTH_SMALL_MIX.items() for _ in range(n)]
    if (len(SYNTH_LARGE_MINES), len(medium), len(small)) != tuple(need.values()):
        raise ValueError(f"synthetic mine design does not fill the size classes: need {need}")
    # The last small mine takes the remainder, staying below 30 万吨.
    rest = COAL_CAPACITY - sum(r["capacity"] for r in real)
    rest -= sum(c for _, c in SYNTH_LARGE_MINES) + sum(medium) + sum(small[:-1])
    small[-1] = round(rest, 1)
    if not 0 < small[-1] < COAL_SMALL_MAX:
        raise ValueError(f"remainder mine of {small[-1]} 万吨 is not a small mine")

    plan = ([("large", region, cap) for region, cap in SYNTH_LARGE_MINES]
            + [("medium", region, cap) for region, cap in
               zip(weighted_choice(rng, COAL_PREFECTURE_WEIGHTS, len(medium)), medium)]
            + [("small", region, cap) for region, cap in
               zip(weighted_choice(rng, COAL_PREFECTURE_WEIGHTS, len(small)), small)])
    rows = []
    for i, (cls, region, cap) in enumerate(plan, start=1):
        sid = f"S{i:03d}"
        lo, hi = COAL_WORKERS_PER_CAP[cls]
        per_cap = rng.uniform(lo, hi)
        state = rng.random() < COAL_STATE_SHARE[cls]
        y0, y1 = COAL_OPENING_YEARS[cls]
        rows.append(unit_row(
            unit_id=f"COAL-{sid}", name=f"Synthetic mine {sid} ({region})",
            name_zh=f"合成煤矿{sid}", sector="coal", kind="coal_mine", product="coal",
            capacity=cap, firm=f"Synthetic coal firm {sid}", region=region,
            workers=int(round(cap * per_cap)), owner="state" if state else "private",
            opening_year=int(rng.integers(y0, y1 + 1)), source="synthetic",
            source_ref=f"synthetic: {cls}-mine class {cap:g} 万吨, {per_cap:.0f} workers/万吨",
            size=cls,
        ))
    add_coal_facts(rng, rows)
    for r in rows:
        del r["size"]
    return rows


def add_coal_facts(rng: Draws, rows: list[dict]) -> None:
    """Facts behind the mandatory exits of plan §II.1.(2), and losses, on synthetic mines."""
    idx = {c: [i for i, r in enumerate(rows) if r["size"] == c] for c in COAL_CLASS_COUNTS}
    used: set[int] = set()

    def free(pool, cond=lambda r: True):
        return [i for i in pool if i not in used and cond(rows[i])]

    def note(i, text):
        rows[i]["source_ref"] += f"; {text}"

    for cls, n in N_PROTECTED.items():
        for i in pick(rng, free(idx[cls], lambda r: r["region"] in PROTECTED_PREFECTURES), n):
            rows[i]["protected_area"] = True
            note(i, "in Qilian Mountains reserve (synthetic)")
            used.add(i)
    for i in pick(rng, free(idx["small"], lambda r: r["capacity"] <= BACKWARD_MAX_CAP),
                  N_BACKWARD):
        rows[i]["backward_class"] = True
        note(i, "backward small-mine class (synthetic)")
        used.add(i)
    for i in pick(rng, free(idx["small"]), N_MAJOR_ACCIDENT):
        rows[i].update(accident="major", accident_year=int(rng.integers(2014, 2016)))
        note(i, "major accident (synthetic)")
        used.add(i)
    for i in pick(rng, free(idx["small"], lambda r: r["capacity"] <= LARGE_ACCIDENT_MAX_CAP),
                  N_LARGE_ACCIDENT):
        rows[i].update(accident="large",
                       accident_year=int(rng.integers(ACCIDENT_YEARS[0], ACCIDENT_YEARS[1] + 1)))
        note(i, "large accident (synthetic)")
        used.add(i)
    for i in pick(rng, free(idx["small"]), N_BANNED_METHOD):
        rows[i]["banned_method"] = True
        note(i, "banned mining method (synthetic)")
        used.add(i)
    for i in pick(rng, free(idx["small"] + idx["medium"]), N_GENERAL_ACCIDENT):
        rows[i].update(accident="general",
                       accident_year=int(rng.integers(ACCIDENT_YEARS[0], ACCIDENT_YEARS[1] + 1)))
        note(i, "general accident (synthetic)")

    n_loss = round(SMALL_LOSS_SHARE * len(idx["small"]))
    for i in pick(rng, idx["small"], n_loss):
        rows[i]["loss_making"] = True
        rows[i]["subsidised_loss"] = int(rng.integers(*SMALL_LOSS_RANGE, endpoint=True) // 10 * 10)
        note(i, "loss-making (synthetic)")
    for i in pick(rng, free(idx["medium"]), N_MEDIUM_LOSS):
        rows[i]["loss_making"] = True
        rows[i]["subsidised_loss"] = int(rng.integers(*MEDIUM_LOSS_RANGE, endpoint=True) // 10 * 10)
        note(i, "loss-making (synthetic)")
    for i in pick(rng, idx["small"], N_SMALL_STANDARDS_FAILED):
        rows[i]["standards_failed"] = str(rng.choice(COAL_STANDARDS_CHOICES))
        note(i, "fails standards (synthetic)")
    windowed = pick(rng, free(idx["medium"], lambda r: not r["loss_making"]),
                    len(COAL_EXIT_WINDOWS))
    for i, window in zip(windowed, COAL_EXIT_WINDOWS):
        rows[i]["exit_years"] = window
        note(i, "exit window: merger consolidation under way (synthetic)")
    for r in rows:
        mark_ineligible(r)


# --------------------------------------------------------------------------------------------
# Steel
# --------------------------------------------------------------------------------------------

STEEL_ZH = {"blast_furnace": "号高炉", "converter": "号转炉", "rolling_mill": "轧钢生产线"}


def steel_units(rng: Draws) -> list[dict]:
    rows = []
    for plant in JISCO_PLANTS:
        for uid, kind, spec, cap, name, name_zh, ref in plant["units"]:
            per_cap = STEEL_WORKERS_PER_CAP["jisco"][kind]
            rows.append(unit_row(
                unit_id=uid, name=f"JISCO {name}", name_zh=name_zh, sector="steel", kind=kind,
                product=KIND_PRODUCT[kind], capacity=cap, spec=spec, firm=plant["firm"],
                group=JISCO_GROUP, region=plant["region"], workers=int(round(cap * per_cap)),
                relocatable=plant.get("relocatable", False), source=plant["source"],
                source_ref=f"{ref}; workers {per_cap:g}/万吨 assumed",
            ))
    for code, region, owner, loss, failed, units in OTHER_STEEL_FIRMS:
        firm = f"Steel firm {code} (synthetic)"
        year = int(rng.integers(OTHER_STEEL_OPENING_YEARS[0], OTHER_STEEL_OPENING_YEARS[1] + 1))
        for suffix, kind, size, cap in units:
            per_cap = STEEL_WORKERS_PER_CAP["other"][kind]
            if kind == "blast_furnace":
                spec, backward = f"{size} m3", size <= BACKWARD_BF_MAX_M3
            elif kind == "converter":
                spec, backward = f"{size} t", size <= BACKWARD_CONVERTER_MAX_T
            else:
                spec, backward = size, False
            number = suffix[-1] if suffix[-1].isdigit() else ""
            ref = f"synthetic: small {kind.replace('_', ' ')}, balance of plan §II.2 totals"
            if backward:
                ref += "; backward equipment size"
            if loss:
                ref += "; loss-making"
            if failed:
                ref += f"; fails {failed} standards"
            row = unit_row(
                unit_id=f"STEEL-{code}-{suffix}",
                name=f"Steel firm {code} {spec}" + ("" if kind == "rolling_mill"
                                                     else f" {kind.replace('_', ' ')}"),
                name_zh=f"合成钢企{code} {number}{STEEL_ZH[kind]}", sector="steel", kind=kind,
                product=KIND_PRODUCT[kind], capacity=cap, spec=spec, firm=firm, region=region,
                workers=int(round(cap * per_cap)), owner=owner, opening_year=year,
                backward_class=backward, standards_failed=failed,
                loss_making=bool(loss), subsidised_loss=loss // len(units),
                source="synthetic", source_ref=ref,
            )
            mark_ineligible(row)
            rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# Cement
# --------------------------------------------------------------------------------------------


def cement_units(rng: Draws) -> list[dict]:
    firms = cement_firms(rng)
    # The last independent line is tuned so that clinker totals exactly 4,100.
    tuned = next(f for f in firms if f.get("tuned"))
    others = sum(clinker_capacity(t) for f in firms if f is not tuned for t in f["lines"])
    tuned_cap = round(CLINKER_CAPACITY - others, 1)
    if not LINE_CAP_RANGE[0] <= tuned_cap <= LINE_CAP_RANGE[1]:
        raise ValueError(f"tuned clinker line of {tuned_cap} 万吨 is out of range")
    tuned["lines"] = (round(tuned_cap * 10_000 / KILN_DAYS),)

    lines = []
    for f in firms:
        f["clinker"], f["first_year"] = 0.0, None
        for n, tpd in enumerate(f["lines"], start=1):
            cap = tuned_cap if f is tuned else clinker_capacity(tpd)
            per_cap = rng.uniform(*LINE_WORKERS_PER_CAP)
            year = line_opening_year(rng, tpd)
            f["clinker"] += cap
            f["first_year"] = f["first_year"] or year
            ref = f"{f['ref']}; {tpd} t/d × {KILN_DAYS} d; workers {per_cap:.1f}/万吨 assumed"
            if f is tuned:
                ref += "; capacity tuned to the plan total 4,100"
            lines.append(unit_row(
                unit_id=f"CEM-L{len(lines) + 1:03d}",
                name=f"{f['firm']} clinker line {n} ({tpd} t/d)",
                name_zh=f"{f['zh']} {n}号熟料线", sector="cement", kind="clinker_line",
                product="clinker", capacity=cap, spec=f"{tpd} t/d", firm=f["firm"],
                group=f["group"], region=f["region"], workers=int(round(cap * per_cap)),
                owner=f["owner"], opening_year=year, source="synthetic", source_ref=ref,
                line_no=n,
            ))
    add_cement_line_facts(rng, lines)
    for r in lines:
        del r["line_no"]

    # Grinding: integrated plants grind a multiple of their own clinker; grinding-only
    # stations take the rest, the last one tuned so that cement totals exactly 5,500.
    for f in firms:
        if f["lines"]:
            ratio = GRIND_RATIO_QILIANSHAN if f["group"] == QILIANSHAN_GROUP else GRIND_RATIO_OTHER
            f["cement"] = round(f["clinker"] * ratio, 1)
            f["grind_ref"] = f"{ratio:.2f} t cement per t own clinker"
        else:
            f["cement"] = float(rng.choice(GRINDING_ONLY_SIZES))
            f["first_year"] = int(rng.integers(2000, 2014))
            f["grind_ref"] = "grinding-only firm"
    last = [f for f in firms if not f["lines"]][-1]
    last["cement"] = round(CEMENT_CAPACITY - sum(f["cement"] for f in firms if f is not last), 1)
    last["grind_ref"] += "; capacity tuned to the plan total 5,500"
    if not 10.0 <= last["cement"] <= 120.0:
        raise ValueError(f"tuned grinding station of {last['cement']} 万吨 is out of range")

    stations = []
    for f in firms:
        cap = f["cement"]
        stations.append(unit_row(
            unit_id=f"CEM-G{len(stations) + 1:03d}", name=f"{f['firm']} grinding station",
            name_zh=f"{f['zh']}粉磨站", sector="cement", kind="grinding_station",
            product="cement", capacity=cap, spec=f"cement mills {cap:g} 万吨/yr",
            firm=f["firm"], group=f["group"], region=f["region"],
            workers=int(round(cap * GRINDING_WORKERS_PER_CAP)), owner=f["owner"],
            opening_year=f["first_year"], source="synthetic",
            source_ref=(f"{f['ref']}; {f['grind_ref']}; "
                        f"workers {GRINDING_WORKERS_PER_CAP:g}/万吨 assumed"),
        ))
    return lines + stations


def line_opening_year(rng: Draws, tpd: int) -> int:
    if tpd >= 4000:
        return int(rng.integers(2008, 2015))
    if tpd >= 2500:
        return int(rng.integers(2003, 2013))
    return int(rng.integers(1998, 2011))


def cement_firms(rng: Draws) -> list[dict]:
    """Every cement firm with its group, prefecture, owner and clinker lines (t/d)."""
    firms = []
    for place, zh, region, lines in QILIANSHAN_PLANTS:
        firms.append({
            "firm": f"Qilianshan Cement {place}", "zh": f"祁连山水泥{zh}",
            "group": QILIANSHAN_GROUP, "region": region, "owner": "state", "lines": lines,
            "ref": "synthetic: real group (中材祁连山) ≈ 43 % of Gansu, line set-up assumed",
        })
    n = 0
    for g, plants in enumerate(TOP_GROUPS, start=2):
        group = f"Cement group G{g:02d} (synthetic)"
        owner = "state" if rng.random() < 0.5 else "private"
        for region, lines in plants:
            n += 1
            firms.append({
                "firm": f"Cement firm C{n:02d} (synthetic)", "zh": f"合成水泥企业C{n:02d}",
                "group": group, "region": region, "owner": owner, "lines": lines,
                "ref": f"synthetic: member of top-10 group G{g:02d}",
            })
    independent = list(INDEPENDENT_LINES_TPD) + [0]   # 0: the tuned line, set later
    regions = weighted_choice(rng, CEMENT_PREFECTURE_WEIGHTS,
                              len(independent) + N_GRINDING_ONLY_INDEPENDENT)
    for k, region in enumerate(regions):
        n += 1
        firm = f"Cement firm C{n:02d} (synthetic)"
        lines = (independent[k],) if k < len(independent) else ()
        firms.append({
            "firm": firm, "zh": f"合成水泥企业C{n:02d}", "group": firm, "region": region,
            "owner": "state" if rng.random() < 0.2 else "private", "lines": lines,
            "ref": "synthetic: independent firm outside the top 10",
            "tuned": k == len(independent) - 1,
        })
    return firms


def add_cement_line_facts(rng: Draws, lines: list[dict]) -> None:
    """Relocatable Qilianshan lines (§II.3.(7)) and small failing lines (§II.3.(8))."""
    for place, n in QILIANSHAN_RELOCATABLE:
        r = next(r for r in lines
                 if r["firm"] == f"Qilianshan Cement {place}" and r["line_no"] == n)
        r.update(relocatable=True, exit_years=RELOCATION_WINDOW)
        r["source_ref"] += "; may relocate to Central/West Asia (plan §II.3.(7))"
    small = [i for i, r in enumerate(lines)
             if r["group"] == r["firm"] and int(r["spec"].split()[0]) <= SMALL_LINE_MAX_TPD]
    old = [i for i in small if int(lines[i]["spec"].split()[0]) == min(
        int(lines[j]["spec"].split()[0]) for j in small)][:N_OLD_TYPE_LINES]
    for i in old:
        lines[i]["backward_class"] = True
        lines[i]["source_ref"] += "; not new-dry-process, backward (plan §II.3 NSP > 98 %)"
    failing = pick(rng, small, N_LINES_STANDARDS_FAILED)
    for i in failing:
        lines[i]["standards_failed"] = str(rng.choice(CEMENT_STANDARDS_CHOICES))
        lines[i]["source_ref"] += "; fails standards (synthetic, plan §II.3.(8))"
    losing = pick(rng, failing, N_LINES_LOSS_MAKING - 1) + pick(
        rng, [i for i in small if i not in failing], 1)
    for i in losing:
        lines[i]["loss_making"] = True
        lines[i]["subsidised_loss"] = int(rng.integers(*LINE_LOSS_RANGE, endpoint=True) // 10 * 10)
        lines[i]["source_ref"] += "; loss-making (synthetic)"
    for r in lines:
        mark_ineligible(r)


def add_line_efficiency(rows: list[dict]) -> None:
    """The efficiency and emission columns of the clinker lines (see FLEET_2015), from their own
    stream: value = slope × t/d + noise (+ the extra of a failed standard, + 0.1 per year of age
    for coal and power), shifted so that the capacity-weighted average is the 2015 figure.
    Waste-heat power on the WASTE_HEAT_LINES lines of the largest t/d (noise breaks ties)."""
    rng = Draws(EFFICIENCY_SEED)
    lines = [r for r in rows if r["kind"] == "clinker_line"]
    caps = [float(r["capacity"]) for r in lines]
    for col, (slope, spread, energy, environment) in EFFICIENCY_DRAWS.items():
        raw = []
        for r in lines:
            tpd = int(r["spec"].split()[0])
            failed = str(r.get("standards_failed") or "")
            v = slope * tpd + rng.uniform(-spread, spread)
            v += energy * ("energy" in failed) + environment * ("environment" in failed)
            if col in ("coal_kgce_per_t", "power_kwh_per_t"):
                v += 0.1 * max(0, 2015 - int(r["opening_year"]))
            if r.get("backward_class"):
                v += 2 * spread
            raw.append(v)
        shift = FLEET_2015[col] - sum(c * v for c, v in zip(caps, raw)) / sum(caps)
        for r, v in zip(lines, raw):
            r[col] = f"{v + shift:.1f}"
    score = [int(r["spec"].split()[0]) + rng.uniform(0, 500) for r in lines]
    ranked = sorted(range(len(lines)), key=lambda i: -score[i])
    for n, i in enumerate(ranked):
        lines[i]["waste_heat"] = "1" if n < WASTE_HEAT_LINES else "0"
    for r in lines:
        r["source_ref"] += "; efficiency and emissions synthetic, calibrated to assumed 2015 averages"


def cement_projects() -> list[dict]:
    return [{
        "project_id": "NEW-CEM-01",
        "name": f"{ANNOUNCED_LINE_FIRM} announced clinker line ({ANNOUNCED_LINE_TPD} t/d)",
        "name_zh": f"祁连山水泥漳县已公告熟料线({ANNOUNCED_LINE_TPD}吨/日)",
        "sector": "cement", "product": "clinker",
        "capacity": clinker_capacity(ANNOUNCED_LINE_TPD), "year": ANNOUNCED_LINE_YEAR,
        "opening_year": ANNOUNCED_LINE_YEAR, "firm": ANNOUNCED_LINE_FIRM,
        "group": QILIANSHAN_GROUP, "region": ANNOUNCED_LINE_REGION, "status": "approved",
        **{k: (f"{v:.1f}" if k != "waste_heat" else str(v)) for k, v in ANNOUNCED_LINE_EFFICIENCY.items()},
        "source": "synthetic",
        "source_ref": (f"synthetic: announced project allowed by plan §II.3.(3); "
                       f"{ANNOUNCED_LINE_TPD} t/d × {KILN_DAYS} d"),
    }]


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def to_frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows -> DataFrame of text, formatted deterministically."""
    df = pd.DataFrame(rows)
    if "region_zh" in columns:
        df["region_zh"] = df["region"].map(REGION_ZH)
    df = df[columns].copy()
    df["capacity"] = df["capacity"].map(lambda x: f"{round(float(x), 1):.1f}")
    for col in ("opening_year", "accident_year", "year", "workers", "subsidised_loss"):
        if col in df:
            df[col] = df[col].map(lambda v: "" if v is None or pd.isna(v) else str(int(v)))
    for col in BOOL_COLUMNS:
        if col in df:
            df[col] = df[col].map(lambda v: "true" if v else "false")
    return df.fillna("").astype(str)


def verify(units: pd.DataFrame) -> None:
    """Fail loudly if the tables drift from the plan's figures."""
    cap = units["capacity"].astype(float)
    total = lambda mask: round(float(cap[mask].sum()), 1)  # noqa: E731
    coal = units["sector"] == "coal"
    classes = cap[coal].map(size_class).value_counts().to_dict()
    checks = {
        "coal mines": (int(coal.sum()), COAL_MINES),
        "coal capacity": (total(coal), COAL_CAPACITY),
        "coal size classes": (classes, COAL_CLASS_COUNTS),
        "steel firms": (units.loc[units["sector"] == "steel", "firm"].nunique(), STEEL_FIRMS),
        "pig iron": (total(units["product"] == "pig_iron"), PIG_IRON_CAPACITY),
        "crude steel": (total(units["product"] == "crude_steel"), CRUDE_STEEL_CAPACITY),
        "rolled steel": (total(units["product"] == "rolled_steel"), ROLLED_STEEL_CAPACITY),
        "JISCO pig iron": (total((units["group"] == JISCO_GROUP)
                                 & (units["product"] == "pig_iron")), JISCO_PIG_IRON),
        "JISCO crude steel": (total((units["group"] == JISCO_GROUP)
                                    & (units["product"] == "crude_steel")), JISCO_CRUDE_STEEL),
        "cement firms": (units.loc[units["sector"] == "cement", "firm"].nunique(), CEMENT_FIRMS),
        "clinker lines": (int((units["kind"] == "clinker_line").sum()), CLINKER_LINES),
        "clinker": (total(units["product"] == "clinker"), CLINKER_CAPACITY),
        "cement": (total(units["product"] == "cement"), CEMENT_CAPACITY),
    }
    bad = {k: v for k, v in checks.items() if v[0] != v[1]}
    lines = units["kind"] == "clinker_line"
    by_group = cap[lines].groupby(units.loc[lines, "group"]).sum().sort_values(ascending=False)
    top10 = by_group.head(10).sum() / by_group.sum()
    qls = by_group[QILIANSHAN_GROUP] / by_group.sum()
    if not TOP10_SHARE_RANGE[0] < top10 < TOP10_SHARE_RANGE[1]:
        bad["top-10 clinker share"] = (top10, TOP10_SHARE_RANGE)
    if by_group.index[0] != QILIANSHAN_GROUP or not (
            QILIANSHAN_SHARE_RANGE[0] < qls < QILIANSHAN_SHARE_RANGE[1]):
        bad["Qilianshan clinker share"] = (qls, QILIANSHAN_SHARE_RANGE)
    outside = set(units["region"]) - set(GANSU_PREFECTURES) - {"Yicheng, Shanxi"}
    if outside:
        bad["regions"] = (sorted(outside), GANSU_PREFECTURES)
    unnamed = set(units["region"]) - set(REGION_ZH)
    if unnamed:
        bad["regions without a Chinese name"] = (sorted(unnamed), sorted(REGION_ZH))
    if bad:
        raise ValueError("inventory does not match the plan: " + "; ".join(
            f"{k}: got {got}, want {want}" for k, (got, want) in bad.items()))


def build(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = Draws(SEED)
    gcmt = read_gcmt()
    real = gcmt_units(gcmt)
    coal = real + synthetic_mines(rng, real)
    name_press_mines(coal)
    rows = coal + steel_units(rng) + cement_units(rng)
    add_line_efficiency(rows)
    units = to_frame(rows, UNIT_COLUMNS)
    projects = to_frame(gcmt_projects(gcmt) + cement_projects(), PROJECT_COLUMNS)
    verify(units)
    out.mkdir(parents=True, exist_ok=True)
    for df, name in ((units, "units.csv"), (projects, "projects.csv")):
        # with a BOM, so that Excel (which guesses GBK on a Chinese Windows) reads the names as UTF-8
        df.to_csv(out / name, index=False, lineterminator="\n", encoding="utf-8-sig")
    return units, projects


def summary(units: pd.DataFrame, projects: pd.DataFrame) -> str:
    u = units.assign(cap=units["capacity"].astype(float))
    lines = ["units by product:"]
    for product, g in u.groupby("product", sort=False):
        lines.append(f"  {product:13s} {len(g):4d} units  {g['cap'].sum():8.1f} 万吨/yr  "
                     f"{g['workers'].astype(int).sum():7d} workers")
    coal = u[u["sector"] == "coal"]
    classes = coal["cap"].map(size_class).value_counts()
    lines.append("coal size classes: " + ", ".join(f"{c} {classes.get(c, 0)}"
                                                   for c in COAL_CLASS_COUNTS))
    lines.append(f"coal from GCMT: {int((coal['source'] == 'gcmt').sum())} mines, "
                 f"{coal.loc[coal['source'] == 'gcmt', 'cap'].sum():.1f} 万吨")
    t = lambda col: coal[col] == "true"  # noqa: E731
    mandatory = (t("protected_area") | t("backward_class") | t("banned_method")
                 | ((coal["cap"] < COAL_SMALL_MAX) & coal["accident"].isin(["major", "extraordinary"]))
                 | ((coal["cap"] <= LARGE_ACCIDENT_MAX_CAP)
                    & coal["accident"].isin(["large", "major", "extraordinary"])))
    lines.append(f"coal mandatory exits (plan §II.1.(2) facts): {int(mandatory.sum())} mines, "
                 f"{coal.loc[mandatory, 'cap'].sum():.1f} 万吨 (protected {int(t('protected_area').sum())}, "
                 f"backward {int(t('backward_class').sum())}, banned {int(t('banned_method').sum())})")
    lines.append(f"coal loss-making: {int(t('loss_making').sum())} mines, "
                 f"{coal.loc[t('loss_making'), 'subsidised_loss'].astype(int).sum()} 万元/yr")
    steel = u[u["sector"] == "steel"]
    jisco = steel[steel["group"] == JISCO_GROUP]
    jt = jisco.groupby("product")["cap"].sum()
    lines.append(f"steel firms: {steel['firm'].nunique()}; JISCO iron {jt['pig_iron']:.1f} "
                 f"(package 200 = {200 / jt['pig_iron']:.1%}), steel {jt['crude_steel']:.1f} "
                 f"(package 300 = {300 / jt['crude_steel']:.1%}), "
                 f"{jisco['workers'].astype(int).sum() / jt['crude_steel']:.1f} workers/万吨 steel")
    cem = u[u["sector"] == "cement"]
    clinker = cem[cem["kind"] == "clinker_line"]
    by_group = clinker.groupby("group")["cap"].sum().sort_values(ascending=False)
    lines.append(f"cement firms: {cem['firm'].nunique()}; clinker lines {len(clinker)}; "
                 f"top-10 group share {by_group.head(10).sum() / by_group.sum():.1%}; "
                 f"Qilianshan {by_group[QILIANSHAN_GROUP] / by_group.sum():.1%} "
                 f"(largest: {by_group.index[0]})")
    p = projects.assign(cap=projects["capacity"].astype(float))
    lines.append("projects: " + ", ".join(f"{k} {len(g)} / {g['cap'].sum():.1f} 万吨"
                                          for k, g in p.groupby("product")))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE,
                        help="folder to write units.csv and projects.csv (default: this folder)")
    args = parser.parse_args(argv)
    units, projects = build(args.out)
    print(summary(units, projects))


if __name__ == "__main__":
    main()
