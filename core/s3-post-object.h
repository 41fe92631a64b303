/*
 * s3-post-object.h -- browser POST uploads (PostObject): a multipart/form-data
 * POST to a bucket, signed through a policy document (s3-post-object.c).
 */
#ifndef CAIRN_S3_POST_OBJECT_H
#define CAIRN_S3_POST_OBJECT_H

#include "s3-internal.h"

/*
 * Serves S3_OP_POST_OBJECT: reads the form fields (form-data.c), identifies
 * the signer through the auth plugins' authenticate_form, checks the policy
 * document (post-policy.c), authorizes s3:PutObject on the key for the
 * signer (anonymous when unsigned), streams the file part to the backend as a
 * PUT body and answers as success_action_redirect / success_action_status
 * ask.  Answers itself and returns 0, or returns a negative CAIRN_E_* error
 * for the dispatcher to render.  The dispatcher must not authorize this
 * operation beforehand: the key and the signer come from the body.
 */
int s3_op_post_object(struct s3_call *call);

#endif
