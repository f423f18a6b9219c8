/* Committee pages: a form with data-confirm asks before it is sent. A static file, since
   the Content-Security-Policy allows no inline script or event handler attributes. */
document.addEventListener('submit', function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
