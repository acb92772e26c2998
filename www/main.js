// The page: the full trainer (every panel) and the race view, with the settings in the URL,
// autosave to this browser, and on a first visit (a bare address) the pretrained demo.
import { createTrainerView } from "./app.js";
import { readQuery } from "./controls.js";
import { PANELS, trainerMarkup } from "./template.js";
import { createRace } from "./race.js";

/** Weights for the default demo, made by scripts/pretrain.sh. */
const PRETRAINED = "www/pretrained/point-goal-alam.alam";

function start() {
  const bindings = window.wasmBindings;
  document.getElementById("app").innerHTML = trainerMarkup(new Set(PANELS));
  const query = readQuery(location.search);
  const firstVisit = location.search === "";
  window.alamPage = createTrainerView(document, bindings, {
    settings: query.settings,
    page: query.page,
    url: true,
    autosave: true,
    pretrained: firstVisit ? PRETRAINED : null,
  });
  window.alamRace = createRace(document.getElementById("race"), bindings, () => window.alamPage.config(), {
    backend: query.page.backend,
    onStart: () => window.alamPage.pause(), // the race gets the CPU to itself
  });
}

if (window.wasmBindings) start();
else addEventListener("TrunkApplicationStarted", start, { once: true });
