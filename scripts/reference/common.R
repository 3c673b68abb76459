# common.R -- helpers shared by the reference scripts in scripts/reference/.
#
# Purpose
#   Independent reference numbers for necc-bayes tests are computed ONCE in R and stored in
#   tests/reference/*.json, so that CI never needs R. Every JSON written through
#   write_reference() carries: the tool and package versions (sessionInfo/packageVersion),
#   the date, the script, each data set's shipped CSV with its sha256, the exact R calls
#   (the strings below are parse()d and evaluated, so the recorded call IS the call run),
#   the coding of every covariate, and the results.
#
# Usage
#   Source from a script run at the repository root:  Rscript scripts/reference/<name>.R
#
# Sources
#   R Core Team (2022). R 4.2; Therneau T (2023). survival 3.5; Goodrich B, Gabry J, Ali I,
#   Brilleman S (2020). rstanarm 2.21; van Buuren S, Groothuis-Oudshoorn K (2011). mice.
#   Debian packages r-base-core, r-cran-survival, r-cran-rstanarm, r-cran-mice.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

if (!file.exists("pyproject.toml") || !dir.exists("tests/datasets")) {
  stop("run the reference scripts from the repository root (tests/datasets/ must exist)")
}

DATASET_DIR <- "tests/datasets"
REFERENCE_DIR <- "tests/reference"

sha256_file <- function(path) {
  paste(as.character(openssl::sha256(readBin(path, "raw", file.info(path)$size))), collapse = "")
}

pkg_versions <- function(pkgs) {
  out <- list(R = paste(R.version$major, R.version$minor, sep = "."),
              R_version_string = R.version.string)
  for (p in pkgs) out[[p]] <- as.character(packageVersion(p))
  out
}

# Export a data frame exactly as it will be used (write.csv, row.names = FALSE); return the
# path. Factors are written as their level labels (strings).
export_csv <- function(df, name) {
  path <- file.path(DATASET_DIR, paste0(name, ".csv"))
  write.csv(df, path, row.names = FALSE)
  invisible(path)
}

# Read a shipped CSV back: every analysis fits the rows read from the file the Python tests
# read, never R's in-memory copy (so both sides see the same doubles).
read_dataset <- function(name) {
  read.csv(file.path(DATASET_DIR, paste0(name, ".csv")), stringsAsFactors = FALSE)
}

dataset_entry <- function(name, rows_used, n_rows_used, source) {
  path <- file.path(DATASET_DIR, paste0(name, ".csv"))
  df <- read.csv(path, stringsAsFactors = FALSE)
  list(name = name, file = path, sha256 = sha256_file(path), n_rows_file = nrow(df),
       rows_used = rows_used, n_rows_used = n_rows_used, source = source)
}

# Evaluate a call given as text in env; return list(call = text, value = result).
run_call <- function(txt, env = parent.frame()) {
  list(call = txt, value = eval(parse(text = txt), envir = env))
}

fmt <- function(x) sprintf("%.17g", x)

cox_results <- function(fit) {
  s <- summary(fit)$coefficients
  se_col <- if ("se(coef)" %in% colnames(s)) "se(coef)" else "se2"
  terms <- lapply(rownames(s), function(nm) {
    list(term = nm, coef = unname(s[nm, "coef"]), se = unname(s[nm, se_col]),
         hr = unname(exp(s[nm, "coef"])), z = unname(s[nm, "z"]),
         p = unname(s[nm, "Pr(>|z|)"]))
  })
  list(terms = terms, loglik_null = unname(fit$loglik[1]), loglik = unname(fit$loglik[2]),
       n = fit$n, n_events = fit$nevent, iterations = fit$iter, ties = fit$method)
}

# Posterior summary of a stanreg fit: rstan::monitor on the post-warmup draws (mean,
# MCSE of the mean, sd, MCSE of the sd, quantiles, bulk/tail ESS, Rhat).
stan_results <- function(fit, pars) {
  draws <- as.array(fit)[, , pars, drop = FALSE]
  m <- rstan::monitor(draws, warmup = 0, print = FALSE)
  lapply(pars, function(p) {
    list(term = p, mean = m[p, "mean"], sd = m[p, "sd"], mcse_mean = m[p, "se_mean"],
         mcse_sd = m[p, "MCSE_SD"], q2.5 = m[p, "2.5%"], q50 = m[p, "50%"],
         q97.5 = m[p, "97.5%"], ess_bulk = m[p, "Bulk_ESS"], ess_tail = m[p, "Tail_ESS"],
         rhat = m[p, "Rhat"])
  })
}

stan_diagnostics <- function(fit) {
  sf <- fit$stanfit
  list(divergent = rstan::get_num_divergent(sf),
       max_treedepth_hits = rstan::get_num_max_treedepth(sf),
       bfmi = rstan::get_bfmi(sf))
}

write_reference <- function(name, ref, pkgs) {
  meta <- list(schema = "necc-bayes R reference v1", analysis = name, tool = "R",
               versions = pkg_versions(pkgs), platform = R.version$platform,
               date = format(Sys.Date()), script = SCRIPT)
  out <- c(meta, ref)
  path <- file.path(REFERENCE_DIR, paste0(name, ".json"))
  writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null",
                    na = "null"), path)
  message("wrote ", path)
  invisible(path)
}

# Evaluate data-preparation lines (text) in the global environment and return them, so the
# JSON records exactly how the analysed data frame was built from the shipped CSV.
prepare <- function(lines) {
  for (l in lines) eval(parse(text = l), envir = globalenv())
  lines
}

# Cuts at event-time quantiles: quantile(type 7) of the event times at probs (1:k)/(k + 1),
# rounded to whole time units, duplicates removed.
quantile_cuts <- function(event_times, k) {
  unique(round(unname(quantile(event_times, probs = seq_len(k) / (k + 1), type = 7))))
}

interval_table <- function(split, cuts) {
  J <- length(cuts) + 1
  lapply(seq_len(J), function(k) {
    in_k <- split$interval == k
    list(interval = k, lower = c(0, cuts)[k], upper = if (k <= length(cuts)) cuts[k] else NULL,
         events = sum(split$event[in_k]), exposure = sum(split$exposure[in_k]),
         rows = sum(in_k))
  })
}

# rstanarm Poisson PEM on survSplit rows (columns event, exposure, interval): log baseline
# rate per interval ~ Normal(log crude rate, 10), each coefficient ~ Normal(0, coef_scale),
# autoscale = FALSE. Returns the call text.
# init = 0: rstanarm samples z with beta = z * prior_scale + prior_mean, and rstan's default
# random inits z ~ U(-2, 2) put the log baseline rates at log r +/- 20 and, with vague
# coefficient priors and uncentred covariates (colon's age ~ 60), the linear predictor far
# outside the range exp() can represent: chains then spend most of the run reaching the
# typical set (a colon fit did not finish in 50 min). init = 0 starts every chain at the prior
# location (log baseline = log crude rate, coefficients 0, frailty SD 1); the posterior is
# log-concave in the regression coefficients, and the chains still differ (random momenta).
pem_call <- function(data_name, terms, J, p, log_rate, coef_scale, seed, glmer = FALSE,
                     extra = "", iter = 2000) {
  prior <- sprintf(paste0("normal(location = c(rep(%s, %d), rep(0, %d)), ",
                          "scale = c(rep(10, %d), rep(%s, %d)), autoscale = FALSE)"),
                   fmt(log_rate), J, p, J, fmt(coef_scale), p)
  fun <- if (glmer) "stan_glmer" else "stan_glm"
  sprintf(paste0("%s(event ~ -1 + factor(interval) + %s + offset(log(exposure)), ",
                 "family = poisson, data = %s, prior = %s%s, chains = 4, iter = %d, ",
                 "warmup = 1000, seed = %d, init = 0, cores = 2, refresh = 0)"),
          fun, terms, data_name, prior, extra, iter, seed)
}

timed_fit <- function(txt) {
  t0 <- proc.time()[["elapsed"]]
  fit <- eval(parse(text = txt), envir = globalenv())
  list(call = txt, fit = fit, elapsed_seconds = proc.time()[["elapsed"]] - t0)
}

pem_fit_record <- function(f, coef_pars, J, extra_pars = character(0)) {
  sf <- f$fit$stanfit
  base_pars <- sprintf("factor(interval)%d", seq_len(J))
  list(call = f$call, elapsed_seconds = f$elapsed_seconds,
       adapt_delta = sf@stan_args[[1]]$control$adapt_delta,
       coefficients = stan_results(f$fit, coef_pars),
       log_baseline_rates = stan_results(f$fit, base_pars),
       other = if (length(extra_pars)) stan_results(f$fit, extra_pars) else list(),
       diagnostics = stan_diagnostics(f$fit))
}

# Fit each formula text with Breslow and Efron ties on data `data_name` (a global) and return
# list(calls, results) with results[[label]][[ties]] = cox_results().
cox_fits <- function(formulas, data_name) {
  calls <- character(0)
  res <- list()
  for (label in names(formulas)) {
    for (ties in c("breslow", "efron")) {
      r <- run_call(sprintf('coxph(%s, data = %s, ties = "%s")', formulas[[label]], data_name,
                            ties), globalenv())
      calls <- c(calls, r$call)
      res[[label]][[ties]] <- cox_results(r$value)
    }
  }
  list(calls = calls, results = res)
}

follow_up_summary <- function(time, event, id = NULL) {
  list(n_rows = length(time), n_subjects = if (is.null(id)) length(time) else length(unique(id)),
       n_events = sum(event), n_distinct_event_times = length(unique(time[event == 1])),
       max_follow_up = max(time), max_event_time = max(time[event == 1]),
       min_event_time = min(time[event == 1]))
}

STAN_PKGS <- c("survival", "rstanarm", "rstan", "StanHeaders", "jsonlite")

# Fit the rstanarm PEM under the two coefficient priors (Normal(0, 1) and Normal(0, 10)) on
# the split data `vs` (a global with event, exposure, interval) and write the JSON.
# `coefs` are the coefficient names in model-matrix order after the J interval columns.
run_pem_reference <- function(name, description, prep, datasets, cuts, cut_rule, terms,
                              coefs, coding, seeds, glmer_extra = NULL, extra_meta = list(),
                              iter = 2000) {
  J <- length(cuts) + 1
  vs <- get("vs", envir = globalenv())
  log_rate <- log(sum(vs$event) / sum(vs$exposure))
  fits <- list()
  variants <- list(informative_normal_0_1 = 1, vague_normal_0_10 = 10)
  for (i in seq_along(variants)) {
    label <- names(variants)[i]
    txt <- pem_call("vs", terms, J, length(coefs), log_rate, variants[[i]], seeds[i],
                    glmer = !is.null(glmer_extra),
                    extra = if (is.null(glmer_extra)) "" else glmer_extra$call_extra,
                    iter = iter)
    f <- timed_fit(txt)
    stopifnot(identical(names(fixef_or_coef(f$fit)),
                        c(sprintf("factor(interval)%d", seq_len(J)), coefs)))
    rec <- c(list(coef_prior_sd = variants[[i]], seed = seeds[i]), pem_fit_record(f, coefs, J))
    if (!is.null(glmer_extra)) rec <- c(rec, glmer_extra$summarise(f$fit))
    fits[[label]] <- rec
    message(name, " ", label, ": ", round(f$elapsed_seconds, 1), " s")
  }
  write_reference(name, c(list(
    description = description, datasets = datasets, data_preparation = prep,
    calls = unname(lapply(fits, `[[`, "call")), coding = coding, cuts = cuts,
    cut_rule = cut_rule, intervals = interval_table(vs, cuts),
    priors = c(list(
      log_baseline_rate = sprintf(paste("Normal(log crude rate = %s, sd 10) per interval;",
                                        "crude rate = total events / total exposure = %d / %s"),
                                  fmt(log_rate), sum(vs$event), fmt(sum(vs$exposure))),
      log_crude_rate = log_rate,
      coefficients = paste("Normal(0, 1) (informative_normal_0_1) or Normal(0, 10)",
                           "(vague_normal_0_10), autoscale = FALSE"),
      intercept = "none (-1 in the formula)"),
      if (is.null(glmer_extra)) list() else glmer_extra$prior_text),
    seed = unname(sapply(fits, `[[`, "seed")), chains = 4, iter = iter, warmup = 1000,
    init = "0 (every chain starts at the prior location; see pem_call in common.R)"),
    extra_meta, list(results = fits)), STAN_PKGS)
}

fixef_or_coef <- function(fit) {
  if (inherits(fit, "lmerMod")) rstanarm::fixef(fit) else coef(fit)
}
