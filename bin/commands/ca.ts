import type { Command } from '../command.js'

export const caCommand: Command = {
  name: 'ca',
  summary: "show reltape's CA certificate (made on first use), its fingerprint and how to trust it",
  options: { pem: { type: 'boolean', description: 'print the certificate itself (PEM)' } },
  async run({ values }) {
    // Loaded on demand: the CA module pulls in mockttp, which other commands need not pay for.
    const { loadOrCreateCA } = await import('../../store/ca.js')
    const ca = await loadOrCreateCA()
    if (values.pem) {
      process.stdout.write(ca.cert)
      return
    }
    console.log(`CA certificate:   ${ca.certPath}`)
    console.log(`CA key (0600):    ${ca.keyPath}`)
    console.log(`SPKI fingerprint: ${ca.spkiFingerprint}`)
    console.log('')
    console.log('Trust it:')
    console.log(`  curl:     curl --cacert ${ca.certPath} --proxy http://127.0.0.1:8000 https://…`)
    console.log(`  Node.js:  NODE_EXTRA_CA_CERTS=${ca.certPath} node app.js`)
    console.log(`  Chromium: --ignore-certificate-errors-spki-list=${ca.spkiFingerprint} (reltape record --launch does this)`)
    console.log(`  Debian:   cp ${ca.certPath} /usr/local/share/ca-certificates/reltape.crt && update-ca-certificates`)
  },
}
