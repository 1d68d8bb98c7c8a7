/**
 * Reads a multipart/form-data body with the platform's own parser (undici's Response.formData on Node 20),
 * so the sandbox needs no multipart dependency.
 */
export type UploadedPart = { name: string; fileName: string; contentType: string; bytes: Buffer }
export type ParsedForm = { files: UploadedPart[]; fields: Record<string, string> }

export async function parseMultipart(body: Buffer, contentType: string): Promise<ParsedForm> {
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData()
  const files: UploadedPart[] = []
  const fields: Record<string, string> = {}
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') fields[name] = value
    else files.push({ name, fileName: value.name, contentType: value.type || 'application/octet-stream', bytes: Buffer.from(await value.arrayBuffer()) })
  }
  return { files, fields }
}
