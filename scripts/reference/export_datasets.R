# export_datasets.R -- write the public data sets used by the reference scripts to tests/datasets/.
#
# Each CSV is written with write.csv(row.names = FALSE) exactly as the analyses use it; every
# analysis script then reads the CSV back (read_dataset()), so R and the Python tests fit the
# same rows and the same doubles. String factors are written as their labels.
#
# Sources (see tests/datasets/README.md for provenance and licences):
#   R package survival 3.5 (Therneau 2023; LGPL >= 2): veteran, colon, heart, rats, pbc,
#   ovarian, lung.  Python package lifelines 0.30 (MIT): rossi.csv, larynx.csv, copied from
#   the installed package's datasets/ directory (path found under .venv or LIFELINES_DATASETS).
#
# Usage:  Rscript scripts/reference/export_datasets.R   (from the repository root)

SCRIPT <- "scripts/reference/export_datasets.R"
source("scripts/reference/common.R")

# veteran: trt recoded 0/1 (standard = 0, test = 1); celltype as R's labels; karno10 = karno/10.
vet <- data.frame(time = veteran$time, status = veteran$status, trt = veteran$trt - 1,
                  celltype = as.character(veteran$celltype), karno = veteran$karno,
                  karno10 = veteran$karno / 10, diagtime = veteran$diagtime,
                  age = veteran$age, prior = veteran$prior)
export_csv(vet, "veteran")

# colon: the death records (etype == 2) with complete values of the columns kept
# (nodes is NA for 18 of the 929 patients: those rows are dropped; differ, NA for 23, is not kept).
col2 <- subset(colon, etype == 2,
               select = c(id, time, status, rx, sex, age, obstruct, perfor, adhere, nodes,
                          node4, extent, surg))
stopifnot(nrow(col2) == 929, sum(is.na(col2$nodes)) == 18)
col2 <- col2[!is.na(col2$nodes), ]
stopifnot(!anyNA(col2))
col2$rx <- as.character(col2$rx)
export_csv(col2, "colon_deaths")

# heart: Stanford heart transplant counting-process rows; transplant factor "0"/"1" -> 0/1.
hrt <- data.frame(id = heart$id, start = heart$start, stop = heart$stop, event = heart$event,
                  age = heart$age, year = heart$year, surgery = heart$surgery,
                  transplant = as.integer(as.character(heart$transplant)))
export_csv(hrt, "heart")

# rats: all 300 rats (150 female, 150 male); analyses subset sex == "f".
export_csv(rats[, c("litter", "rx", "time", "status", "sex")], "rats")

# pbc: all 418 patients, every column, NA as "NA" (106 non-trial patients lack most labs).
pbc_out <- pbc
pbc_out$sex <- as.character(pbc_out$sex)
export_csv(pbc_out, "pbc")

# ovarian: as shipped (26 patients).
export_csv(ovarian, "ovarian")

# lung: NCCTG lung cancer; status 1 = censored, 2 = dead (R's coding kept); the one patient
# with ph.ecog missing is dropped; only the columns used are kept.
lng <- lung[!is.na(lung$ph.ecog), c("time", "status", "age", "sex", "ph.ecog")]
stopifnot(nrow(lng) == 227)
export_csv(lng, "lung")

# rossi and larynx from lifelines' own CSVs.
ll_dir <- Sys.getenv("LIFELINES_DATASETS",
                     dirname(Sys.glob(".venv/lib/python*/site-packages/lifelines/datasets/rossi.csv")[1]))
for (nm in c("rossi", "larynx")) {
  src <- file.path(ll_dir, paste0(nm, ".csv"))
  if (!file.exists(src)) stop("lifelines dataset not found: ", src)
  export_csv(read.csv(src), nm)
}

for (f in list.files(DATASET_DIR, pattern = "\\.csv$", full.names = TRUE)) {
  cat(sprintf("%-36s %5d rows  sha256 %s\n", f, nrow(read.csv(f)), sha256_file(f)))
}
