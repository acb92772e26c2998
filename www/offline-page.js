// The page's offline use (index.html loads it): the service worker, and what the page says
// about it (www/offline.js).
import { announce } from "./offline.js";

announce().catch((e) => console.warn("offline use:", e));
