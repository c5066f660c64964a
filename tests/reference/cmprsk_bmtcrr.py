"""R cmprsk results on the bone-marrow transplant data ``bmtcrr`` (177 patients; relapse = 1,
transplant-related death = 2, censored = 0; time in months).

Data: bmtcrr.csv beside this file, as shipped by the R package casebase (``inst/extdata/bmtcrr.csv``,
from Scrucca, Santucci and Aversa 2007, Bone Marrow Transplantation 40:381-387, and 2010, 45:1388-1395),
copied from the public repository manalirupji/CASAS (file bmtcrr.csv, commit 841cd1ab).

Numbers: R output as printed in a Fine-Gray tutorial chapter adapted (CC BY-SA 4.0) from a Chinese-language
R book on medical statistics (github.com/ayueme/R_medical_stat); the Gray's test figures are printed
identically in other public copies of that chapter. The calls:

1. ``cuminc(bmtcrr$ftime, bmtcrr$Status, bmtcrr$D)``: Gray's test by disease (ALL vs AML) per
   cause, and the cumulative incidence estimates ``$est`` at 20, 40, ..., 120 months (AML at 120
   months is NA in R: beyond the group's last time; not compared);
2. ``crr(ftime, Status, covs, failcode = 1, cencode = 0)`` with the factors coded as integers
   (``as.integer``: Sex F=1 M=2, D ALL=1 AML=2, Phase CR1=1 CR2=2 CR3=3 Relapse=4, Source BM+PB=1
   PB=2) and Age: coefficients and standard errors as printed (4 decimals). crr's standard errors
   include a term for the estimated censoring weights (Fine and Gray 1999); maexlab's robust
   sandwich (as coxph with cluster(id) on crprep data) treats them as known, so the test allows
   2e-4 there.
"""

GRAY_TEST_BY_D = {
    1: {"stat": 2.8623325, "p": 0.09067592, "df": 1},
    2: {"stat": 0.4481279, "p": 0.50322531, "df": 1},
}
CUMINC_TIMES = [20, 40, 60, 80, 100, 120]
CUMINC_BY_D = {
    ("ALL", 1): [0.3713851, 0.3875571, 0.3875571, 0.3875571, 0.3875571, 0.3875571],
    ("AML", 1): [0.2414530, 0.2663827, 0.2810390, 0.2810390, 0.2810390, None],
    ("ALL", 2): [0.3698630, 0.3860350, 0.3860350, 0.3860350, 0.3860350, 0.3860350],
    ("AML", 2): [0.4439103, 0.4551473, 0.4551473, 0.4551473, 0.4551473, None],
}
CRR_CODES = {
    "Sex": {"F": 1, "M": 2},
    "D": {"ALL": 1, "AML": 2},
    "Phase": {"CR1": 1, "CR2": 2, "CR3": 3, "Relapse": 4},
    "Source": {"BM+PB": 1, "PB": 2},
}
CRR = {
    "Sex": {"coef": 0.0494, "se": 0.2867},
    "D": {"coef": -0.4860, "se": 0.3040},
    "Phase": {"coef": 0.4144, "se": 0.1194},
    "Age": {"coef": -0.0174, "se": 0.0118},
    "Source": {"coef": 0.9526, "se": 0.5469},
}
