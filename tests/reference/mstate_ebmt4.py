"""R mstate's EBMT data (``ebmt4``): transition counts of the six-state model.

Data: ``ebmt4.csv`` beside this file is ``ebmt_wide.csv`` of the pymsm package (version 0.1.7,
MIT licence, ``pymsm/datasets/``), which is R mstate's data set ``ebmt4`` (2,279 patients
transplanted at the EBMT between 1985 and 1998; times in days): columns ``id, rec, rec.s, ae,
ae.s, recae, recae.s, rel, rel.s, srv, srv.s`` and the covariates ``year, agecl, proph, match``.
The EBMT made the data available for illustration; mstate's documentation says they were
simplified and do not reflect any real-life situation.

Model: de Wreede, Fiocco and Putter (2011), "mstate: An R package for the analysis of
competing risks and multi-state models", Journal of Statistical Software 38(7), section 2:
``transMat(list(c(2, 3, 5, 6), c(4, 5, 6), c(4, 5, 6), c(5, 6), c(), c()),
names = c("Tx", "Rec", "AE", "Rec+AE", "Rel", "Death"))`` and ``msprep(time = c(NA, "rec",
"ae", "recae", "rel", "srv"), status = c(NA, "rec.s", "ae.s", "recae.s", "rel.s", "srv.s"))``,
whose ``events(msebmt)`` table is below.

Where the counts come from: R's own ``msprep`` output on these data, which pymsm ships as
``ebmt_long.csv`` (15,512 rows, as calibmsm documents for its copy ``msebmtcal``); the counts per
transition were tallied from that R output with
``long[long.status == 1].groupby(["from", "to"]).size()`` (not by maexlab). The paper's printed
``events(msebmt)`` table could not be retrieved here, so it is not quoted; the counts below are
R's, and the test holds maexlab to them exactly.
"""

STATES = ("Tx", "Rec", "AE", "Rec+AE", "Rel", "Death")
#: transMat of the model: where each state can go.
NEXT = {
    "Tx": ("Rec", "AE", "Rel", "Death"),
    "Rec": ("Rec+AE", "Rel", "Death"),
    "AE": ("Rec+AE", "Rel", "Death"),
    "Rec+AE": ("Rel", "Death"),
    "Rel": (),
    "Death": (),
}
PATIENTS = 2279
#: rows of msprep's long data (one per patient, state occupied and possible next state)
LONG_ROWS = 15512

#: events(msebmt)$Frequencies: transitions out of each transient state, and stays without event.
EVENTS = {
    "Tx": {"Rec": 785, "AE": 907, "Rel": 95, "Death": 160, "no event": 332},
    "Rec": {"Rec+AE": 227, "Rel": 112, "Death": 39, "no event": 407},
    "AE": {"Rec+AE": 433, "Rel": 56, "Death": 197, "no event": 221},
    "Rec+AE": {"Rel": 107, "Death": 137, "no event": 416},
}
#: "total entering" each state
ENTERING = {"Tx": 2279, "Rec": 785, "AE": 907, "Rec+AE": 660, "Rel": 370, "Death": 533}
