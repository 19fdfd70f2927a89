import { render } from "preact";
import { App } from "./App";
import { tauriApi, tauriModelsApi, tauriSummaryApi } from "./api";
import { SummaryPopup } from "./components/SummaryPopup";
import "./styles.css";

// One page, two windows: the main window, and the quick summary popup (opened at #summary).
const root = document.getElementById("root")!;
if (window.location.hash === "#summary") {
  render(<SummaryPopup api={tauriSummaryApi} />, root);
} else {
  render(<App api={tauriApi} modelsApi={tauriModelsApi} />, root);
}
