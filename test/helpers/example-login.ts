/** The example's first leg as a same-origin browser form post (the example refuses cross-site ones). */
export function postExampleLogin(url: string, phoneNumber: string): Promise<Response> {
  return fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: url,
      'sec-fetch-site': 'same-origin',
    },
    body: new URLSearchParams({ phoneNumber }).toString(),
  });
}
