import { render } from "preact";
import { App } from "./App";
import { tauriApi } from "./api";
import "./styles.css";

render(<App api={tauriApi} />, document.getElementById("root")!);
