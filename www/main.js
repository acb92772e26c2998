// The page: the full trainer (every panel), the race view and the article below them, with the
// settings in the URL, autosave to this browser, and on a first visit (no run settings in the
// address) the pretrained demo.
import { createTrainerView } from "./app.js";
import { mountArticle } from "./article.js";
import { messageOf, readQuery } from "./controls.js";
import { PANELS, trainerMarkup } from "./template.js";
import { createRace } from "./race.js";
import { remoteCore } from "./remote.js";

/** The default demo's run file (weights and training history), made by scripts/pretrain.sh:
 *  what a first visit fetches and watches. */
const PRETRAINED = "www/pretrained/point-goal-alam.alam";
/** What "Train on" continues the demo from: the same run's whole training state (replay,
 *  optimiser moments, RNGs; 2.3 MB), fetched only on that click, so a first visit stays small,
 *  and trained on exactly from where the run stopped. */
const PRETRAINED_FULL = "www/pretrained/point-goal-alam-full.alam";

/** URL keys of the page itself, not run settings: `text=0` leaves the article out (as TF
 *  Playground's hideText, for embedding); `race=fac,alam` and `race-preset=stressed` set the race
 *  up (the article's "try this" links), `race-seeds=3` its seeds per algorithm. */
const PAGE_KEYS = ["text", "race", "race-preset", "race-seeds"];
const pageKeys = new URLSearchParams(location.search);
const runQuery = new URLSearchParams(location.search);
for (const key of PAGE_KEYS) runQuery.delete(key);

// The trainer rewrites the query from its run's settings (controls.js writeQuery): `text=0` stays
// in it, so a reload or Copy link keeps the article hidden. (The race keys are a one-time setup.)
if (pageKeys.get("text") === "0") {
  const replaceState = history.replaceState.bind(history);
  history.replaceState = (data, unused, url) => {
    const u = new URL(url, location.href);
    u.searchParams.set("text", "0");
    replaceState(data, unused, u.href);
  };
}

const article = document.getElementById("article");
if (pageKeys.get("text") === "0") article.hidden = true;
else {
  try {
    mountArticle(article);
  } catch (e) {
    console.error("the article could not be drawn:", e); // the trainer starts all the same
  }
}

async function start() {
  // The main thread's instance only checks settings; every trainer trains in a worker.
  const core = await remoteCore(window.wasmBindings);
  document.getElementById("app").innerHTML = trainerMarkup(new Set(PANELS));
  const query = readQuery(runQuery.toString());
  const firstVisit = runQuery.toString() === "";
  window.alamPage = createTrainerView(document, core, {
    settings: query.settings,
    page: query.page,
    url: true,
    autosave: true,
    pretrained: firstVisit ? PRETRAINED : null,
    pretrainedFull: firstVisit ? PRETRAINED_FULL : null,
  });
  const race = document.getElementById("race");
  window.alamRace = createRace(race, core, () => window.alamPage.config(), {
    backend: query.page.backend,
    algos: pageKeys.get("race")?.split(","),
    preset: pageKeys.get("race-preset") ?? undefined,
    seeds: pageKeys.get("race-seeds") ?? undefined,
    onStart: () => window.alamPage.pause(), // the race gets the CPU to itself
  });
  // A link to the race (`#race`) lands on it once the trainer above has its height.
  if (location.hash === "#race") race.scrollIntoView();
}

function run() {
  start().catch((e) => {
    console.error("the page could not start:", e);
    const p = Object.assign(document.createElement("p"), { className: "error", role: "alert" });
    p.textContent = `The trainer could not start: ${messageOf(e)}`;
    document.getElementById("app").replaceChildren(p);
  });
}

if (window.wasmBindings) run();
else addEventListener("TrunkApplicationStarted", run, { once: true });
