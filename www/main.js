// The page: the full trainer (every panel) and the race view, with the settings in the URL,
// autosave to this browser, and on a first visit (a bare address) the pretrained demo.
import { createTrainerView } from "./app.js";
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

async function start() {
  // The main thread's instance only checks settings; every trainer trains in a worker.
  const core = await remoteCore(window.wasmBindings);
  document.getElementById("app").innerHTML = trainerMarkup(new Set(PANELS));
  const query = readQuery(location.search);
  const firstVisit = location.search === "";
  window.alamPage = createTrainerView(document, core, {
    settings: query.settings,
    page: query.page,
    url: true,
    autosave: true,
    pretrained: firstVisit ? PRETRAINED : null,
    pretrainedFull: firstVisit ? PRETRAINED_FULL : null,
  });
  window.alamRace = createRace(document.getElementById("race"), core, () => window.alamPage.config(), {
    backend: query.page.backend,
    onStart: () => window.alamPage.pause(), // the race gets the CPU to itself
  });
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
