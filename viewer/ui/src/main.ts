/** Entry point: defines every component; `<reltape-app>` in index.html takes it from there. */
import './components/reltape-app.js'
import './components/error-notifier.js'
